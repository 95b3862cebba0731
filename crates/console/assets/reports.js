// The reports: the table of /api/reports/{kind} for the day, month or range and region asked,
// the first column with numbers drawn as bars, and the same report as CSV to download.
"use strict";
(function () {
  const en = () => window.hotlineLang === "en";
  const number = (t) => { const n = parseFloat(String(t).replace("%", "")); return isNaN(n) ? null : n; };

  function chart(table) {
    const box = document.getElementById("chart");
    const col = table.keys.findIndex((_, i) => i > 0 && table.rows.some((r) => number(r[i]) !== null));
    if (col < 0 || table.rows.length === 0) { box.replaceChildren(); return; }
    const NS = "http://www.w3.org/2000/svg";
    const el = (name, attrs) => { const e = document.createElementNS(NS, name); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v)); return e; };
    const rows = table.rows.slice(0, 60);
    const top = Math.max(1, ...rows.map((r) => number(r[col]) || 0));
    const W = 1200, H = 160, bw = W / rows.length;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H + 30}`, width: "100%", role: "img" });
    const caption = el("text", { x: 4, y: 14, class: "axis" });
    caption.textContent = table.headings[col];
    svg.append(caption);
    rows.forEach((r, i) => {
      const h = ((number(r[col]) || 0) / top) * (H - 20);
      const bar = el("rect", { x: i * bw + 2, y: H - h, width: Math.max(1, bw - 4), height: h, class: "bar answered" });
      const tip = el("title", {}); tip.textContent = r[0] + ": " + r[col]; bar.append(tip);
      svg.append(bar);
    });
    box.replaceChildren(svg);
  }

  async function show(event) {
    if (event) event.preventDefault();
    const form = document.getElementById("ask");
    const params = new URLSearchParams(new FormData(form));
    const kind = params.get("kind");
    params.delete("kind");
    for (const [k, v] of [...params]) if (!v) params.delete(k);
    document.getElementById("csv").href = "/api/reports/" + kind + "/csv?" + params.toString();
    const res = await fetch("/api/reports/" + kind + "?" + params.toString());
    const said = document.getElementById("said");
    if (!res.ok) { said.textContent = await res.text(); said.className = "said pad bad"; return; }
    said.textContent = "";
    const table = await res.json();
    document.getElementById("title").textContent = table.title;
    const head = document.createElement("tr");
    for (const h of table.headings) { const th = document.createElement("th"); th.textContent = h; head.append(th); }
    document.querySelector("#report thead").replaceChildren(head);
    document.querySelector("#report tbody").replaceChildren(...table.rows.map((r) => {
      const tr = document.createElement("tr");
      for (const v of r) { const td = document.createElement("td"); td.textContent = v; tr.append(td); }
      return tr;
    }));
    chart(table);
  }

  // The regions the user sees, by their names; the whole province for those who see it.
  async function regions() {
    const select = document.getElementById("region");
    const res = await fetch("/api/board");
    if (!res.ok) return;
    const board = await res.json();
    const options = board.regions.map((r) => {
      const o = document.createElement("option"); o.value = r.region; o.textContent = r.name; return o;
    });
    if (board.province) {
      const all = document.createElement("option"); all.value = ""; all.textContent = en() ? "Whole province" : "全省";
      options.unshift(all);
    }
    select.replaceChildren(...options);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    document.getElementById("ask").addEventListener("submit", show);
    await regions();
    show();
  });
})();
