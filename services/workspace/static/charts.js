// Draws every chart on the page from its Vega-Lite spec, as SVG, with the bundle Polku serves.
const specs = document.querySelectorAll("div.vega[data-spec]");
for (const target of specs) {
  const spec = JSON.parse(document.getElementById(target.dataset.spec).textContent);
  try {
    await window.vegaEmbed(target, spec, { actions: false, renderer: "svg" });
    target.dataset.rendered = "true";
  } catch (error) {
    target.dataset.rendered = "failed";
    target.textContent = String(error);
  }
}
document.body.dataset.chartsRendered = String(specs.length);
