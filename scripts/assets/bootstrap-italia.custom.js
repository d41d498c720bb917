/* The parts of Bootstrap Italia's JavaScript that the pages use, bundled by
   scripts/build_assets into static/vendor/bootstrap-italia/js/bootstrap-italia.custom.min.js.
   init: keyboard focus outlines (TrackFocus). NavBarCollapsible: the header's menu on
   phones (data-bs-toggle="navbarcollapsible" in templates/base.html). A page that starts
   using another component adds it here and runs scripts/build_assets again. */
import init from "bootstrap-italia/src/js/plugins/init";
import NavBarCollapsible from "bootstrap-italia/src/js/plugins/navbar-collapsible";

init();

export { NavBarCollapsible };
