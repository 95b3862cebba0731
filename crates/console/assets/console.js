// The console's language: simplified Chinese as written in the page, or the English kept
// in each marked element's data-en, chosen by ?lang= and remembered.
"use strict";
(function () {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "en" || asked === "zh") {
    try { localStorage.setItem("lang", asked); } catch (e) { /* private mode */ }
  }
  let lang = "zh";
  try { lang = localStorage.getItem("lang") || "zh"; } catch (e) { /* private mode */ }
  window.hotlineLang = lang;
  window.translate = function (root) {
    if (lang !== "en") return;
    for (const el of (root || document).querySelectorAll("[data-en]")) {
      el.textContent = el.getAttribute("data-en");
    }
    document.documentElement.lang = "en";
  };
  document.addEventListener("DOMContentLoaded", () => window.translate(document));
})();
