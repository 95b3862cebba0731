// Calls and recordings: the search form asks /api/calls (already cut to the user's regions)
// and lists what comes back; a row opens the call's page.
"use strict";
(function () {
  const en = () => window.hotlineLang === "en";
  const talk = (c) => {
    if (!c.answered_at || !c.ended_at) return "";
    const s = Math.round((Date.parse(c.ended_at) - Date.parse(c.answered_at)) / 1000);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  };
  const cell = (text) => { const td = document.createElement("td"); td.textContent = text; return td; };

  async function find(event) {
    if (event) event.preventDefault();
    const params = new URLSearchParams(new FormData(document.getElementById("search")));
    for (const [k, v] of [...params]) if (!v) params.delete(k);
    history.replaceState(null, "", "/calls?" + params.toString());
    const res = await fetch("/api/calls?" + params.toString());
    const count = document.getElementById("count");
    if (!res.ok) { count.textContent = (en() ? "Search failed: " : "查询失败：") + res.status; return; }
    const calls = await res.json();
    count.textContent = en() ? calls.length + " calls" : "共 " + calls.length + " 通";
    const rows = calls.map((c) => {
      const tr = document.createElement("tr");
      tr.dataset.call = c.call_id;
      const link = document.createElement("a");
      link.href = "/calls/" + encodeURIComponent(c.call_id);
      link.textContent = window.beijing(c.offered_at);
      const first = document.createElement("td");
      first.append(link);
      tr.append(first, cell(c.caller_normalized || c.caller_raw), cell(c.region || ""),
        cell(c.agent || ""), cell(window.outcomeWord(c.outcome)), cell(c.ivr_node || ""),
        cell(talk(c)), cell(c.playable ? "▶" : ""));
      return tr;
    });
    document.querySelector("#calls tbody").replaceChildren(...rows);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("search");
    const given = new URLSearchParams(location.search);
    for (const [k, v] of given) { if (form.elements[k]) form.elements[k].value = v; }
    form.addEventListener("submit", find);
    find();
  });
})();
