// Keeps the rules of Bootstrap Italia's stylesheet that the pages can use: the selectors
// whose classes, ids and elements appear in the templates, the application's scripts and
// Python code (some classes are chosen there), and the custom script bundle. Run by
// scripts/build_assets: node purge.mjs ROOT INPUT.css BUNDLE.js OUTPUT.css
import { writeFileSync } from "node:fs";
import { PurgeCSS } from "purgecss";

const [root, input, bundle, output] = process.argv.slice(2);

// Classes written in pieces, from a template's variable or a script's string concatenation:
// kept whole, with every state Bootstrap Italia's scripts toggle.
const safelist = {
  standard: [/^alert-/, /^bg-/, /^text-/, /^badge/, /^btn-/, /^border-/, /^icon-/, /^is-/,
    /^was-validated/, /^invalid-/, /^valid-/, /^d-/, /^show$/, /^active$/, /^expanded$/,
    /^navbar-open$/, /^focus--/, /^collapsing$/, /^fade$/, /^disabled$/,
    // Selectors of states alone, which PurgeCSS drops: the keyboard focus ring among them
    // (TrackFocus marks data-focus-mouse only what the mouse focused).
    /^:/, /^\*/, /^\[/],
  greedy: [/navbar-collapsable/, /it-header/, /skiplinks/],
};

const [result] = await new PurgeCSS().purge({
  css: [input],
  content: [
    `${root}/templates/**/*.html`,
    `${root}/static/js/**/*.js`,
    `${root}/voucher/**/*.py`,
    bundle,
  ],
  safelist,
  // Custom properties, @font-face and keyframes stay: cheap, and referenced from outside.
  variables: false,
  fontFace: false,
  keyframes: false,
  // Words of any character a class may hold (Bootstrap's "w-50", "col-lg-7", "p-0").
  defaultExtractor: (content) => content.match(/[\w-]+/g) || [],
});
writeFileSync(output, result.css);
