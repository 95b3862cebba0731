// The wallboard: one server-sent event stream (/api/live) pushes the board on every change;
// the page counts the longest waits itself between pushes, on the server's clock.
"use strict";
(function () {
  const en = () => window.hotlineLang === "en";
  const NOT_READY = {
    "break": ["小休", "break"], "lunch": ["就餐", "lunch"], "training": ["培训", "training"],
    "meeting": ["会议", "meeting"], "paperwork": ["整理", "paperwork"], "no-answer": ["未接", "no answer"],
  };
  let board = null;
  // The last refusal count seen (none before the first board), and when it last grew.
  let refusedSeen = null, refusedRoseAt = 0;
  let skew = 0; // server time minus this browser's time, in ms

  const pct = (x) => (x === null || x === undefined) ? "–" : (Math.round(x * 1000) / 10) + "%";
  const secs = (since) => {
    if (!since) return null;
    return Math.max(0, Math.floor((Date.now() + skew - Date.parse(since)) / 1000));
  };
  const mmss = (s) => s === null ? "–" : Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  const cell = (text, cls) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  };
  const rateClass = (x, good, fair) => (x === null || x === undefined) ? "" : x >= good ? "" : x >= fair ? "warn" : "bad";

  function notReady(r) {
    const parts = Object.entries(r.not_ready || {}).map(([k, n]) => {
      const name = NOT_READY[k] ? NOT_READY[k][en() ? 1 : 0] : k;
      return name + " " + n;
    });
    const total = (r.agents && r.agents["not-ready"]) || 0;
    return parts.length ? total + " (" + parts.join(", ") + ")" : String(total);
  }

  function render() {
    if (!board) return;
    const body = document.querySelector("#regions tbody");
    const rows = [];
    for (const r of board.regions) {
      const a = r.agents || {};
      const wait = secs(r.oldest_since);
      const tr = document.createElement("tr");
      tr.dataset.region = r.region;
      tr.append(
        cell(r.name),
        cell(String(r.waiting), r.waiting > 0 ? "warn" : ""),
        cell(mmss(wait), wait !== null && wait > 20 ? "bad" : ""),
        cell(String(a.talking || 0)),
        cell(String(a.ringing || 0)),
        cell(String(a.available || 0)),
        cell(String(a["wrap-up"] || 0)),
        cell(notReady(r)),
        cell(String(r.today.answered)),
        cell(String(r.today.abandoned)),
        cell(String(r.today.overflowed)),
        cell(pct(r.today.service_level), rateClass(r.today.service_level, 0.8, 0.6)),
        cell(pct(r.today.connection_rate), rateClass(r.today.connection_rate, 0.9, 0.7)),
      );
      rows.push(tr);
    }
    const t = board.total;
    const total = document.createElement("tr");
    total.className = "total";
    total.append(cell(en() ? "Total" : "合计"), cell(String(board.waiting)), cell(""), cell(""), cell(""),
      cell(""), cell(""), cell(""), cell(String(t.answered)), cell(String(t.abandoned)),
      cell(String(t.overflowed)), cell(pct(t.service_level)), cell(pct(t.connection_rate)));
    rows.push(total);
    body.replaceChildren(...rows);
    document.getElementById("total-waiting").textContent = String(board.waiting);
    document.getElementById("total-answered").textContent = String(t.answered);
    document.getElementById("total-abandoned").textContent = String(t.abandoned);
    document.getElementById("total-sl").textContent = pct(t.service_level);
    document.getElementById("total-cr").textContent = pct(t.connection_rate);
    const tile = (id, cls) => { document.getElementById(id).className = "tile " + cls; };
    tile("tile-waiting", board.waiting > 0 ? "warn" : "ok");
    tile("tile-sl", rateClass(t.service_level, 0.8, 0.6) || "ok");
    tile("tile-cr", rateClass(t.connection_rate, 0.9, 0.7) || "ok");
    load();
    hundreds();
    document.getElementById("clock").textContent = new Date(Date.now() + skew).toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
  }

  // The switch's load, on the whole province's board only: callers refused with 503 never
  // reach a region's queue, so no other count shows them.
  function load() {
    const s = board.switch;
    for (const id of ["tile-load", "tile-refused"]) document.getElementById(id).hidden = !s;
    if (!s) return;
    document.getElementById("switch-calls").textContent = s.calls + " / " + s.ceiling;
    document.getElementById("switch-refused").textContent = String(s.refused);
    const full = s.ceiling > 0 && s.calls >= s.ceiling * 0.9;
    document.getElementById("tile-load").className = "tile " + (full ? "warn" : "ok");
    // The count runs from the switch's start: red while it grew in the last minute.
    if (refusedSeen !== null && s.refused > refusedSeen) refusedRoseAt = Date.now();
    refusedSeen = s.refused;
    const recent = Date.now() - refusedRoseAt < 60000;
    document.getElementById("tile-refused").className = "tile " + (recent ? "bad" : "ok");
  }

  // The five 100%s per region and in total: anything short of 100% is marked.
  function hundreds() {
    const line = (name, h, cls) => {
      const tr = document.createElement("tr");
      if (cls) tr.className = cls;
      tr.append(cell(name), ...(h || []).map((x) => cell(pct(x), rateClass(x, 1, 0.95))));
      return tr;
    };
    const rows = board.regions.map((r) => {
      const tr = line(r.name, r.today.hundreds);
      tr.dataset.region = r.region;
      return tr;
    });
    rows.push(line(en() ? "Total" : "合计", board.total.hundreds, "total"));
    document.querySelector("#hundreds tbody").replaceChildren(...rows);
  }

  // The last eight hours of today per quarter hour: answered (green) over abandoned (red).
  function chart() {
    const box = document.getElementById("chart");
    if (!board || !box) return;
    const NS = "http://www.w3.org/2000/svg";
    const el = (name, attrs) => {
      const e = document.createElementNS(NS, name);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      return e;
    };
    const now = new Date(Date.now() + skew);
    const bj = new Date(now.toLocaleString("en-US", { timeZone: "Asia/Shanghai" }));
    const current = bj.getHours() * 4 + Math.floor(bj.getMinutes() / 15);
    const first = Math.max(0, current - 31);
    const by = new Map((board.quarters || []).map((q) => [q.quarter, q]));
    const shown = [];
    for (let q = first; q <= current; q++) shown.push(by.get(q) || { quarter: q, answered: 0, abandoned: 0 });
    const top = Math.max(4, ...shown.map((q) => q.answered + q.abandoned));
    const W = 1200, H = 180, pad = 24, bw = (W - 2 * pad) / 32;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H + 24}`, width: "100%", role: "img" });
    shown.forEach((q, i) => {
      const x = pad + i * bw + 2;
      const ha = (q.answered / top) * H, hb = (q.abandoned / top) * H;
      const answered = el("rect", { x, y: H - ha, width: bw - 4, height: ha, class: "bar answered" });
      const abandoned = el("rect", { x, y: H - ha - hb, width: bw - 4, height: hb, class: "bar abandoned" });
      const tip = el("title", {});
      const hh = String(Math.floor(q.quarter / 4)).padStart(2, "0"), mm = String((q.quarter % 4) * 15).padStart(2, "0");
      tip.textContent = `${hh}:${mm}  ${en() ? "answered" : "接听"} ${q.answered}  ${en() ? "abandoned" : "放弃"} ${q.abandoned}`;
      answered.append(tip);
      svg.append(answered, abandoned);
      if (q.quarter % 4 === 0) {
        const label = el("text", { x, y: H + 18, class: "axis" });
        label.textContent = hh + ":00";
        svg.append(label);
      }
    });
    box.replaceChildren(svg);
  }

  function connect() {
    const feed = document.getElementById("feed");
    const source = new EventSource("/api/live?seats=0");
    source.addEventListener("board", (e) => {
      board = JSON.parse(e.data);
      skew = Date.parse(board.at) - Date.now();
      feed.textContent = en() ? "live" : "实时";
      feed.className = "feed live";
      render();
      chart();
    });
    source.onerror = () => {
      feed.textContent = en() ? "reconnecting…" : "重新连接…";
      feed.className = "feed lost";
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    connect();
    setInterval(render, 1000);
  });
})();
