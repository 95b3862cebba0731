// Spot checks: the coverage of each check and the sampled calls from /api/qa; a score and a
// note per call posted to /api/qa/reviews with the page's CSRF token.
"use strict";
(function () {
  const en = () => window.hotlineLang === "en";
  const STAGES = { "running": ["进行中", "running"], "not-drawn": ["未抽取", "not drawn"],
    "reviewing": ["评定中", "reviewing"], "done": ["已完成", "done"] };
  const cell = (t) => { const td = document.createElement("td"); td.textContent = t == null ? "" : String(t); return td; };
  const scopeText = (s) => typeof s === "string" ? (en() ? "province" : "省局") : (s.office || JSON.stringify(s));

  async function review(callId, score, note) {
    const body = new URLSearchParams({ csrf: document.body.dataset.csrf, call: callId, score, note });
    const res = await fetch("/api/qa/reviews", { method: "POST", body });
    const said = document.getElementById("said");
    said.textContent = res.ok ? (en() ? "Review stored." : "评定已保存。") : (await res.text());
    said.className = "said " + (res.ok ? "ok" : "bad");
    if (res.ok) load();
  }

  async function load() {
    const res = await fetch("/api/qa");
    if (!res.ok) return;
    const { samples, coverage } = await res.json();
    document.querySelector("#coverage tbody").replaceChildren(...coverage.map((c) => {
      const tr = document.createElement("tr");
      const stage = STAGES[c.stage] ? STAGES[c.stage][en() ? 1 : 0] : c.stage;
      tr.append(cell(scopeText(c.scope)), cell(c.period), cell(c.rule), cell(c.calls), cell(c.needed),
        cell(c.sampled), cell(c.reviewed), cell(stage + (c.overdue ? (en() ? " (overdue)" : "（逾期）") : "")));
      return tr;
    }));
    document.querySelector("#samples tbody").replaceChildren(...samples.map((s) => {
      const tr = document.createElement("tr");
      tr.dataset.call = s.call_id;
      const link = document.createElement("a");
      link.href = "/calls/" + encodeURIComponent(s.call_id);
      link.textContent = s.call_id;
      const callCell = document.createElement("td"); callCell.append(link);
      const form = document.createElement("td");
      const score = document.createElement("input");
      score.type = "number"; score.min = "0"; score.max = "100"; score.size = 4; score.name = "score";
      score.value = s.score == null ? "" : s.score;
      const note = document.createElement("input");
      note.name = "note"; note.size = 24; note.placeholder = en() ? "what was found" : "评语";
      const save = document.createElement("button");
      save.textContent = en() ? "Save" : "保存";
      save.dataset.action = "review";
      save.addEventListener("click", () => review(s.call_id, score.value, note.value));
      form.append(score, note, save);
      tr.append(cell(s.office + " " + s.period), callCell, cell(window.beijing(s.offered_at)), cell(s.agent),
        cell(s.caller), cell(s.score), cell(s.note), form);
      return tr;
    }));
  }
  document.addEventListener("DOMContentLoaded", load);
})();
