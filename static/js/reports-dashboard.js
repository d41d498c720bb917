/* The dashboard's charts, drawn with Chart.js from the JSON data island #dashboard-data
   (amounts in cents). The same figures are in the table under each chart, which is what a
   screen reader reads; the canvas carries a summary in its aria-label. */
(function () {
  "use strict";

  var island = document.getElementById("dashboard-data");
  if (!island || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(island.textContent);
  var Chart = window.Chart;
  var locale = document.documentElement.lang === "en" ? "en-GB" : "it-IT";
  var full = new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" });
  var compact = new Intl.NumberFormat(locale, {
    style: "currency",
    currency: "EUR",
    notation: "compact",
    maximumFractionDigits: 1,
  });
  var percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  // Bootstrap Italia's palette.
  var PALETTE = {
    committed_cents: "#0066cc",
    redeemed_cents: "#008758",
  };

  Chart.defaults.font.family = "'Titillium Web', Geneva, Tahoma, sans-serif";
  Chart.defaults.font.size = 14;
  Chart.defaults.color = "#1a1a1a";
  if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    Chart.defaults.animation = false;
  }

  function datasets(block) {
    return Object.keys(block.series).map(function (key) {
      var colour = (block.colours && block.colours[key]) || PALETTE[key] || "#0066cc";
      return {
        label: block.names[key],
        data: block.series[key].map(function (cents) {
          return cents / 100;
        }),
        backgroundColor: colour,
        borderColor: colour,
      };
    });
  }

  // Budget burn: committed and redeemed as a share of each scheme's budget, so that a small
  // scheme reads as clearly as a large one; the tooltip gives the amounts too.
  function burnDatasets(block) {
    var budget = block.series.budget_cents;
    return ["committed_cents", "redeemed_cents"].map(function (key) {
      return {
        label: block.names[key],
        data: block.series[key].map(function (cents, i) {
          return budget[i] > 0 ? (cents * 100) / budget[i] : 0;
        }),
        amounts: block.series[key],
        budgets: budget,
        backgroundColor: PALETTE[key],
        borderColor: PALETTE[key],
      };
    });
  }

  // Horizontal charts grow with their rows, so that every label stays readable.
  function fit(canvas) {
    var box = canvas.parentElement;
    var rows = parseInt(box.getAttribute("data-rows") || "0", 10);
    if (rows > 0) {
      box.style.height = Math.max(14, rows * 3 + 5) + "rem";
    }
  }

  function draw(id, block, options) {
    var canvas = document.getElementById(id);
    if (!canvas || !block.labels.length) {
      return;
    }
    var horizontal = options.horizontal;
    if (horizontal) {
      fit(canvas);
    }
    var value = horizontal ? "x" : "y";
    var scales = {};
    scales[value] = {
      stacked: options.stacked,
      beginAtZero: true,
      suggestedMax: options.percent ? 100 : undefined,
      ticks: {
        callback: function (amount) {
          return options.percent ? percent.format(amount / 100) : compact.format(amount);
        },
      },
    };
    scales[horizontal ? "y" : "x"] = { stacked: options.stacked };
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: block.labels,
        datasets: options.percent ? burnDatasets(block) : datasets(block),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        scales: scales,
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (context) {
                var set = context.dataset;
                if (options.percent) {
                  var i = context.dataIndex;
                  return (
                    set.label + ": " + full.format(set.amounts[i] / 100) + " (" +
                    percent.format(context.parsed[value] / 100) + " " + block.budget_phrase + " " +
                    full.format(set.budgets[i] / 100) + ")"
                  );
                }
                return set.label + ": " + full.format(context.parsed[value]);
              },
            },
          },
        },
      },
    });
  }

  draw("chart-burn", data.burn, { horizontal: true, percent: true });
  draw("chart-spending", data.spending, { stacked: true });
  draw("chart-providers", data.providers, { horizontal: true });
})();
