// Handed-on cases: listed from /api/cases (the user's regions), the overdue flagged; a
// supervisor chases one or closes it with the answer given to the taxpayer.
"use strict";
(function () {
  const en = () => window.hotlineLang === "en";
  const cell = (t) => { const td = document.createElement("td"); td.textContent = t == null ? "" : String(t); return td; };

  async function act(path, fields) {
    const body = new URLSearchParams({ csrf: document.body.dataset.csrf, ...fields });
    const res = await fetch(path, { method: "POST", body });
    const said = document.getElementById("said");
    said.textContent = res.ok ? (en() ? "Done." : "已办理。") : await res.text();
    said.className = "said " + (res.ok ? "ok" : "bad");
    load();
  }

  async function load() {
    const res = await fetch("/api/cases");
    if (!res.ok) return;
    const view = await res.json();
    document.getElementById("chased").textContent = view.late === 0 ? "100%" :
      Math.round((view.late_chased / view.late) * 1000) / 10 + "% (" + view.late_chased + "/" + view.late + ")";
    document.querySelector("#cases tbody").replaceChildren(...view.cases.map((c) => {
      const tr = document.createElement("tr");
      tr.dataset.case = c.id;
      if (c.overdue) tr.className = "overdue";
      const acts = document.createElement("td");
      if (!c.closed_at) {
        const chase = document.createElement("button");
        chase.textContent = en() ? "Chase" : "催办"; chase.dataset.action = "chase";
        chase.addEventListener("click", () => act("/api/cases/" + c.id + "/chase", {}));
        const answer = document.createElement("input");
        answer.size = 18; answer.name = "answer"; answer.placeholder = en() ? "answer given" : "答复内容";
        const close = document.createElement("button");
        close.textContent = en() ? "Close" : "办结"; close.dataset.action = "close";
        close.addEventListener("click", () => act("/api/cases/" + c.id + "/close", { answer: answer.value }));
        acts.append(chase, answer, close);
      }
      const due = c.due + (c.overdue ? (en() ? " (overdue)" : "（超期）") : "");
      tr.append(cell(c.id), cell(c.call_id), cell(c.agent), cell(c.department), cell(c.question),
        cell(due), cell(c.chases), cell(c.answer || ""), acts);
      return tr;
    }));
  }
  document.addEventListener("DOMContentLoaded", load);
})();
