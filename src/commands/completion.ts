import { Argument, type Command } from 'commander';
import { SHELLS, completionScript, type Shell } from '../shell/completion.js';
import { describeProgram } from '../shell/tree.js';

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print the completion script for a shell (commands, options, their fixed values)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText('after', `
Examples:
  $ netnote completion bash > ~/.local/share/bash-completion/completions/netnote
  $ source <(netnote completion bash)                                    this shell only
  $ netnote completion zsh > "\${fpath[1]}/_netnote"
  $ netnote completion fish > ~/.config/fish/completions/netnote.fish`)
    .action((shell: Shell) => {
      process.stdout.write(completionScript(shell, describeProgram(program)));
    });
}
