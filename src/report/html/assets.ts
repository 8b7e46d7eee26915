// What a report inlines so that it opens with no network: the chart library (uPlot: 50 KB, draws
// 100 000 points at once on a canvas) with its stylesheet, and the script that turns the report's
// chart specs into uPlot charts.
import UPLOT_SCRIPT from 'uplot/dist/uPlot.iife.min.js?raw';
import UPLOT_STYLE from 'uplot/dist/uPlot.min.css?raw';
import DRAW_SCRIPT from './draw.js?raw';

export { DRAW_SCRIPT, UPLOT_SCRIPT, UPLOT_STYLE };
