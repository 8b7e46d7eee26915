// Runs in the browser, inlined into every netnote HTML report (src/report/html/assets.ts): turns
// the chart specs of src/report/html/spec.ts into uPlot charts. Plain JavaScript, no imports, no
// network; test/report-html.test.ts opens reports in Chromium and checks every chart drew.
(function () {
  'use strict';
  var specs = JSON.parse(document.getElementById('netnote-charts').textContent);
  var container = document.getElementById('charts');
  var HEIGHT = 300;
  var PRINT_WIDTH = 680;
  var plots = [];

  function width() {
    return Math.max(320, Math.min(container.clientWidth, 1100));
  }

  function paths(style) {
    if (style === 'step') return uPlot.paths.stepped({ align: 1 });
    if (style === 'bars-left') return uPlot.paths.bars({ size: [0.3, 80], align: -1 });
    if (style === 'bars-right') return uPlot.paths.bars({ size: [0.3, 80], align: 1 });
    return uPlot.paths.linear();
  }

  function options(spec, w) {
    var ticks = spec.x.ticks;
    var bars = spec.series.some(function (s) { return s.style.indexOf('bars') === 0; });
    var xAxis = { label: spec.x.label, labelSize: 20 };
    if (ticks) {
      xAxis.splits = function () { return ticks.map(function (t) { return t[0]; }); };
      xAxis.values = function (u, splits) {
        return splits.map(function (v) {
          var tick = ticks.find(function (t) { return t[0] === v; });
          return tick ? tick[1] : '';
        });
      };
    }
    var xScale = { time: false, distr: spec.x.log ? 3 : 1 };
    if (bars) {
      xScale.range = function () { return [-0.5, spec.series[0].xs.length - 0.5]; };
    } else if (ticks) {
      xScale.range = function (u, min, max) { return [ticks[0][0], Math.max(max, ticks[0][0] + 1)]; };
    }
    return {
      width: w,
      height: HEIGHT,
      scales: { x: xScale, y: { distr: spec.y.log ? 3 : 1, range: spec.y.log ? undefined : function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.05 : 1]; } } },
      axes: [xAxis, { label: spec.y.label, labelSize: 20, size: 60 }],
      legend: { live: false },
      cursor: { drag: { x: !bars, y: false } },
      series: [{ label: spec.x.label }].concat(spec.series.map(function (s) {
        var bar = s.style.indexOf('bars') === 0;
        return {
          label: s.label,
          stroke: s.color,
          width: bar ? 1 : 1.5,
          dash: s.dash ? [6, 4] : undefined,
          fill: bar ? s.color : (s.fill ? s.color + '40' : undefined),
          spanGaps: true,
          paths: paths(s.style),
          points: { show: bar || s.style === 'step' ? false : function (u, i, i0, i1) { return i1 - i0 < 60; } },
        };
      })),
      hooks: {
        draw: [function (u) { u.root.setAttribute('data-drawn', String(Number(u.root.getAttribute('data-drawn') || 0) + 1)); }],
      },
    };
  }

  /** Every series on one x: uPlot.join lines up the runs' own x values. */
  function aligned(spec) {
    return uPlot.join(spec.series.map(function (s) { return [s.xs, s.ys]; }));
  }

  specs.forEach(function (spec) {
    var figure = document.createElement('figure');
    figure.className = 'chart';
    figure.setAttribute('data-chart', spec.id);
    figure.setAttribute('data-series', String(spec.series.length));
    var caption = document.createElement('figcaption');
    caption.textContent = spec.title;
    var target = document.createElement('div');
    var note = document.createElement('p');
    note.className = 'note';
    note.textContent = spec.note;
    figure.appendChild(caption);
    figure.appendChild(target);
    figure.appendChild(note);
    container.appendChild(figure);
    plots.push(new uPlot(options(spec, width()), aligned(spec), target));
  });

  function resize(w) {
    plots.forEach(function (u) { u.setSize({ width: w, height: HEIGHT }); });
  }
  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { resize(width()); });
  });
  // Paper is narrower than most screens: draw for it, and back after.
  window.addEventListener('beforeprint', function () { resize(PRINT_WIDTH); });
  window.addEventListener('afterprint', function () { resize(width()); });
  document.body.setAttribute('data-charts-drawn', String(plots.length));
})();
