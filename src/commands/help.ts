import { Argument, type Command } from 'commander';
import { helpTopics } from '../shell/topics.js';

/**
 * `netnote help [TOPIC]`: a command's help, or one of the documents shipped with netnote, which
 * the summary lines point to (`netnote help wire-cost`). Replaces commander's own help command;
 * registered last, so that every command is a topic.
 */
export function registerHelp(program: Command): void {
  const docs = helpTopics();
  const commands = program.commands.map((c) => c.name());
  program
    .command('help')
    .description(`show a command's help, or a document: ${Object.keys(docs).join(', ')}`)
    .addArgument(new Argument('[topic]', 'a command or a document').choices([...commands, ...Object.keys(docs)]))
    .addHelpText('after', `
Examples:
  $ netnote help wire-cost           how the "on the wire" line is estimated
  $ netnote help json                the --json event stream and its JSON Schema
  $ netnote help tcp-client          the same as netnote tcp-client --help`)
    .action((topic: string | undefined) => {
      process.stdout.on('error', () => {}); // `netnote help json | head`: the reader went away
      const command = program.commands.find((c) => c.name() === (topic ?? ''));
      if (topic === undefined) program.outputHelp();
      else if (command) command.outputHelp();
      else process.stdout.write(docs[topic]!.replace(/\n?$/, '\n'));
    });
}
