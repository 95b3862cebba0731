// One call: its facts, legs and its agent's states around it from /api/calls/{id}, and its recording, played by the
// browser from /recordings/{id} (range requests, so it seeks; every play is audited).
"use strict";
(function () {
  const en = () => window.hotlineLang === "en";
  const when = (t) => window.beijing(t);
  const cell = (text) => { const td = document.createElement("td"); td.textContent = text; return td; };

  async function load() {
    const id = document.body.dataset.call;
    const res = await fetch("/api/calls/" + encodeURIComponent(id));
    const facts = document.getElementById("facts");
    if (!res.ok) { facts.textContent = en() ? "No such call in your regions." : "您所辖地区无此通话。"; return; }
    const { call, legs, agent_states } = await res.json();
    const rows = [
      ["来电时间", "Offered", when(call.offered_at)],
      ["主叫", "Caller", (call.caller_normalized || call.caller_raw) + (call.masked ? (en() ? " (confidential)" : "（保密）") : "")],
      ["地区", "Region", call.region || ""],
      ["导航路径", "Menu path", call.ivr_path || call.ivr_node || ""],
      ["业务", "Skill", call.skill || ""],
      ["工号", "Agent", call.agent || ""],
      ["接听时间", "Answered", when(call.answered_at)],
      ["结束时间", "Ended", when(call.ended_at)],
      ["结果", "Outcome", window.outcomeWord(call.outcome)],
      ["报工号", "Agent number announced", call.agent_announced ? "✓" : ""],
      ["满意度", "Survey", call.survey_score == null ? "" : String(call.survey_score)],
    ];
    facts.replaceChildren(...rows.flatMap(([zh, english, value]) => {
      const dt = document.createElement("dt"); dt.textContent = en() ? english : zh;
      const dd = document.createElement("dd"); dd.textContent = value;
      return [dt, dd];
    }));
    const player = document.getElementById("player");
    if (call.playable) {
      player.src = "/recordings/" + encodeURIComponent(call.call_id);
      player.hidden = false;
    } else {
      document.getElementById("no-recording").hidden = false;
    }
    document.querySelector("#legs tbody").replaceChildren(...legs.map((l) => {
      const tr = document.createElement("tr");
      tr.append(cell(l.party), cell(when(l.started_at)), cell(when(l.ended_at)));
      return tr;
    }));
    const STATES = {
      "available": ["空闲", "available"], "ringing": ["振铃", "ringing"], "talking": ["通话", "talking"],
      "wrap-up": ["话后", "wrap-up"], "not-ready": ["示忙", "not ready"], "logged-out": ["签出", "logged out"],
    };
    const state = (k) => k == null ? "" : (STATES[k] ? STATES[k][en() ? 1 : 0] : k);
    document.querySelector("#agent-states tbody").replaceChildren(...(agent_states || []).map((s) => {
      const tr = document.createElement("tr");
      tr.append(cell(when(s.at)), cell(state(s.from)), cell(state(s.to)), cell(s.reason || ""));
      return tr;
    }));
  }
  document.addEventListener("DOMContentLoaded", load);
})();
