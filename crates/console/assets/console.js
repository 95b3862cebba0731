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
  const OUTCOMES = {
    answered: ["接听", "answered"], abandoned: ["放弃", "abandoned"], overflowed: ["溢出", "overflowed"],
    voicemail: ["留言", "voicemail"], callback: ["回拨登记", "callback"], ivr: ["仅语音导航", "menu only"],
    failed: ["失败", "failed"], closed: ["非服务时间", "closed"],
  };
  // A call's outcome in the user's language.
  window.outcomeWord = (o) => OUTCOMES[o] ? OUTCOMES[o][lang === "en" ? 1 : 0] : (o || "");
  // A time as the centres read it: Beijing time.
  window.beijing = (t) => t ? new Date(t).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false }) : "";
  document.addEventListener("DOMContentLoaded", () => window.translate(document));
})();
