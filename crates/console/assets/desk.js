// The agent's desk: their seat from /api/desk/live; when the phone rings, the caller and
// their earlier calls pop up; the last call's summary is filed with a category and a note.
"use strict";
(function () {
  const en = () => window.hotlineLang === "en";
  const STATES = {
    "available": ["空闲", "available"], "ringing": ["振铃", "ringing"], "talking": ["通话", "talking"],
    "wrap-up": ["话后", "wrap-up"], "not-ready": ["示忙", "not ready"], "logged-out": ["签出", "logged out"],
  };
  const word = (k) => STATES[k] ? STATES[k][en() ? 1 : 0] : (k || "");
  let lastCall = null;

  async function post(path, fields) {
    const body = new URLSearchParams({ csrf: document.body.dataset.csrf, ...fields });
    const res = await fetch(path, { method: "POST", body });
    const said = document.getElementById("said");
    let text = String(res.status);
    try { const j = await res.json(); text = j.message || (j.ok ? (en() ? "Saved." : "已保存。") : text); } catch (e) { text = await res.text().catch(() => text); }
    said.textContent = text;
    said.className = "said " + (res.ok ? "ok" : "bad");
    return res.ok;
  }

  function show(view) {
    const seat = view.seat;
    document.getElementById("state").textContent = seat ? word(seat.state) : "–";
    const pop = document.getElementById("pop");
    const call = seat && seat.call;
    if (call) {
      pop.hidden = false;
      lastCall = call.call_id;
      const rows = [["主叫", "Caller", call.caller], ["地区", "City", view.city || call.region || ""],
        ["导航路径", "Menu path", call.ivr_path || call.ivr_node || ""], ["业务", "Asked for", call.skill || ""],
        ["来电时间", "Since", window.beijing(call.offered_at)]];
      document.getElementById("caller").replaceChildren(...rows.flatMap(([zh, e, v]) => {
        const dt = document.createElement("dt"); dt.textContent = en() ? e : zh;
        const dd = document.createElement("dd"); dd.textContent = v; dd.dataset.field = e.toLowerCase();
        return [dt, dd];
      }));
      const cell = (t) => { const td = document.createElement("td"); td.textContent = t; return td; };
      document.querySelector("#history tbody").replaceChildren(...view.history.map((h) => {
        const tr = document.createElement("tr");
        const notes = h.notes.map((n) => n.category + "：" + n.note).join("；");
        tr.append(cell(window.beijing(h.offered_at)), cell(h.agent || ""), cell(window.outcomeWord(h.outcome)), cell(notes));
        return tr;
      }));
      document.getElementById("no-history").hidden = view.history.length > 0;
      const KINDS = { voicemail: ["留言", "voicemail"], callback: ["预约回电", "callback"], abandoned: ["放弃来电", "abandoned"] };
      document.querySelector("#callbacks tbody").replaceChildren(...view.callbacks.map((c) => {
        const tr = document.createElement("tr");
        const kind = KINDS[c.kind] ? KINDS[c.kind][en() ? 1 : 0] : c.kind;
        tr.append(cell(window.beijing(c.created_at)), cell(kind), cell(c.number || ""));
        return tr;
      }));
      document.getElementById("no-callbacks").hidden = view.callbacks.length > 0;
    } else {
      pop.hidden = true;
    }
    if (lastCall) {
      document.getElementById("wrap").hidden = false;
      document.getElementById("wrap-call").textContent = lastCall;
    }
    const deps = document.getElementById("department");
    if (!deps.options.length) {
      for (const d of view.departments) { const o = document.createElement("option"); o.value = d; o.textContent = d; deps.append(o); }
    }
    const cats = document.getElementById("category");
    if (!cats.options.length) {
      for (const c of view.categories) { const o = document.createElement("option"); o.value = c; o.textContent = c; cats.append(o); }
    }
  }

  // The agent's own hand-on cases: open ones first, the overdue marked.
  async function myCases() {
    const res = await fetch("/api/desk/cases");
    if (!res.ok) return;
    const cases = await res.json();
    const cell = (t) => { const td = document.createElement("td"); td.textContent = t == null ? "" : String(t); return td; };
    document.querySelector("#my-cases tbody").replaceChildren(...cases.map((c) => {
      const tr = document.createElement("tr");
      tr.dataset.case = c.id;
      if (c.overdue) tr.className = "overdue";
      const due = c.due + (c.overdue ? (en() ? " (overdue)" : "（超期）") : "");
      tr.append(cell(c.id), cell(c.department), cell(c.question), cell(due), cell(c.answer || (en() ? "open" : "办理中")));
      return tr;
    }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    myCases();
    for (const b of document.querySelectorAll("button[data-state]")) {
      b.addEventListener("click", () => post("/api/desk/state", { action: b.dataset.state, reason: document.getElementById("reason").value }));
    }
    document.getElementById("save-summary").addEventListener("click", async () => {
      if (!lastCall) return;
      const ok = await post("/api/desk/summary", { call: lastCall,
        category: document.getElementById("category").value, note: document.getElementById("note").value });
      if (ok) document.getElementById("note").value = "";
    });
    document.getElementById("hand-on").addEventListener("click", async () => {
      if (!lastCall) return;
      const body = new URLSearchParams({ csrf: document.body.dataset.csrf, call: lastCall,
        department: document.getElementById("department").value, question: document.getElementById("question").value });
      const res = await fetch("/api/desk/case", { method: "POST", body });
      const said = document.getElementById("said");
      if (res.ok) {
        const j = await res.json();
        said.textContent = (en() ? "Handed on, due " : "已转办，办结期限 ") + j.due;
        document.getElementById("question").value = "";
        myCases();
      } else {
        said.textContent = await res.text();
      }
      said.className = "said " + (res.ok ? "ok" : "bad");
    });
    const feed = document.getElementById("feed");
    const source = new EventSource("/api/desk/live");
    source.addEventListener("desk", (e) => {
      feed.textContent = en() ? "live" : "实时";
      feed.className = "feed live";
      show(JSON.parse(e.data));
    });
    source.onerror = () => { feed.textContent = en() ? "reconnecting…" : "重新连接…"; feed.className = "feed lost"; };
  });
})();
