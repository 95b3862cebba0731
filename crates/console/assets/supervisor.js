// The supervisor's page: every agent of their regions, live from /api/live, with buttons
// that send the switch the CLI's commands (listen / whisper / barge ring the supervisor's
// own phone; pause, ready, log out), each form carrying the page's CSRF token.
"use strict";
(function () {
  const en = () => window.hotlineLang === "en";
  const STATES = {
    "available": ["空闲", "available"], "ringing": ["振铃", "ringing"], "talking": ["通话", "talking"],
    "wrap-up": ["话后", "wrap-up"], "not-ready": ["示忙", "not ready"], "logged-out": ["签出", "logged out"],
  };
  const REASONS = {
    "break": ["小休", "break"], "lunch": ["就餐", "lunch"], "training": ["培训", "training"],
    "meeting": ["会议", "meeting"], "paperwork": ["整理", "paperwork"], "no-answer": ["未接", "no answer"],
  };
  const word = (table, k) => table[k] ? table[k][en() ? 1 : 0] : (k || "");
  let board = null;
  let skew = 0;

  async function send(path, fields) {
    const body = new URLSearchParams({ csrf: document.body.dataset.csrf, ...fields });
    const res = await fetch(path, { method: "POST", body });
    let said = res.status + "";
    try { said = (await res.json()).message; } catch (e) { /* not JSON */ }
    const p = document.getElementById("said");
    p.textContent = said;
    p.className = "said " + (res.ok ? "ok" : "bad");
  }

  const button = (label, english, onClick, name) => {
    const b = document.createElement("button");
    b.textContent = en() ? english : label;
    b.dataset.action = name;
    b.addEventListener("click", onClick);
    return b;
  };

  function render() {
    if (!board) return;
    const rows = [];
    for (const r of board.regions) {
      for (const s of r.seats || []) {
        const tr = document.createElement("tr");
        tr.dataset.agent = s.id;
        const cell = (t) => { const td = document.createElement("td"); td.textContent = t; return td; };
        const secs = Math.max(0, Math.floor((Date.now() + skew - Date.parse(s.since)) / 1000));
        const state = word(STATES, s.state) + (s.reason ? " · " + word(REASONS, s.reason) : "");
        const acts = document.createElement("td");
        const agentPath = "/api/agents/" + encodeURIComponent(s.id);
        if (s.state === "talking") {
          acts.append(
            button("监听", "listen", () => send(agentPath + "/monitor", { mode: "listen" }), "listen"),
            button("耳语", "whisper", () => send(agentPath + "/monitor", { mode: "whisper" }), "whisper"),
            button("强插", "barge", () => send(agentPath + "/monitor", { mode: "barge" }), "barge"));
        }
        const reason = document.createElement("select");
        reason.dataset.reason = s.id;
        for (const k of ["break", "lunch", "training", "meeting", "paperwork"]) {
          const o = document.createElement("option"); o.value = k; o.textContent = word(REASONS, k); reason.append(o);
        }
        acts.append(reason,
          button("示忙", "pause", () => send(agentPath + "/state", { action: "pause", reason: reason.value }), "pause"),
          button("示闲", "ready", () => send(agentPath + "/state", { action: "ready" }), "ready"),
          button("签出", "log out", () => send(agentPath + "/state", { action: "logout" }), "logout"));
        const stateCell = cell(state);
        stateCell.className = "state " + s.state;
        tr.append(cell(r.name), cell(s.id), cell(s.name || ""), stateCell,
          cell(Math.floor(secs / 60) + ":" + String(secs % 60).padStart(2, "0")), cell(String(s.calls_today)), acts);
        rows.push(tr);
      }
    }
    // Keep a reason being chosen while the table is redrawn.
    const chosen = {};
    for (const sel of document.querySelectorAll("select[data-reason]")) chosen[sel.dataset.reason] = sel.value;
    document.querySelector("#seats tbody").replaceChildren(...rows);
    for (const sel of document.querySelectorAll("select[data-reason]")) {
      if (chosen[sel.dataset.reason]) sel.value = chosen[sel.dataset.reason];
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const b of document.querySelectorAll("button[data-hours]")) {
      b.addEventListener("click", () => send("/api/hours", { hours: b.dataset.hours }));
    }
    const feed = document.getElementById("feed");
    const source = new EventSource("/api/live");
    source.addEventListener("board", (e) => {
      board = JSON.parse(e.data);
      skew = Date.parse(board.at) - Date.now();
      feed.textContent = en() ? "live" : "实时";
      feed.className = "feed live";
      render();
    });
    source.onerror = () => { feed.textContent = en() ? "reconnecting…" : "重新连接…"; feed.className = "feed lost"; };
    setInterval(() => {
      // Redraw for the ticking times, but not while a reason is being picked.
      if (!(document.activeElement && document.activeElement.tagName === "SELECT")) render();
    }, 1000);
  });
})();
