// Voice content: each prompt from /api/voice with its text, played in the page; replaced by
// an upload or by a recording from the admin's own phone, or restored from an earlier version.
"use strict";
(function () {
  const en = () => window.hotlineLang === "en";
  const csrf = () => document.body.dataset.csrf;
  const cell = (t) => { const td = document.createElement("td"); td.textContent = t == null ? "" : String(t); return td; };
  const seconds = (s) => s == null ? (en() ? "missing" : "缺失") : s.toFixed(1) + " s";
  let view = null;

  function say(ok, text) {
    const said = document.getElementById("said");
    said.textContent = text;
    said.className = "said " + (ok ? "ok" : "bad");
  }

  async function answer(res) {
    try { return (await res.json()).message; } catch (e) { return res.statusText; }
  }

  function player(name, version) {
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.src = "/api/voice/" + encodeURIComponent(name) + "/audio?" +
      new URLSearchParams(version ? { version, t: Date.now() } : { t: Date.now() });
    return audio;
  }

  // A version's id (20261206T021500123Z) as Beijing time.
  function when(id) {
    const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)/.exec(id);
    return m ? window.beijing(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : id;
  }

  async function upload(name, input) {
    const file = input.files && input.files[0];
    if (!file) { say(false, en() ? "Choose a WAV or MP3 file first." : "请先选择 WAV 或 MP3 文件。"); return; }
    say(true, en() ? "Converting…" : "正在转换…");
    const res = await fetch("/api/voice/" + encodeURIComponent(name), {
      method: "POST", body: file, headers: { "x-csrf-token": csrf() },
    });
    say(res.ok, await answer(res));
    load();
  }

  async function post(path, fields) {
    const body = new URLSearchParams({ csrf: csrf(), ...fields });
    return fetch(path, { method: "POST", body });
  }

  async function restore(name, version) {
    const res = await post("/api/voice/" + encodeURIComponent(name) + "/restore", { version });
    say(res.ok, await answer(res));
    load();
  }

  // Rings the user's phone; the new version shows when they finish (# or hang up).
  async function record(name) {
    const before = versionsOf(name);
    const res = await post("/api/voice/" + encodeURIComponent(name) + "/record", {});
    if (!res.ok) { say(false, await answer(res)); return; }
    say(true, en() ? "Your phone is ringing: speak after the beep, press # when done." :
      "正在呼叫您的话机：提示音后开始录音，完成后按 # 键。");
    const until = Date.now() + 180000;
    const poll = async () => {
      await load();
      if (versionsOf(name) > before) {
        say(true, en() ? "Recorded: the new version is live." : "录制完成，新版本已生效。");
      } else if (Date.now() < until) {
        setTimeout(poll, 1000);
      }
    };
    setTimeout(poll, 1000);
  }

  const versionsOf = (name) => {
    const p = view && view.prompts.find((x) => x.name === name);
    return p ? p.versions.length : 0;
  };

  function row(p) {
    const tr = document.createElement("tr");
    tr.dataset.prompt = p.name;
    const listen = document.createElement("td");
    if (p.seconds != null) listen.append(player(p.name));
    const replace = document.createElement("td");
    const file = document.createElement("input");
    file.type = "file"; file.accept = ".wav,.mp3,audio/wav,audio/mpeg"; file.name = "file";
    const send = document.createElement("button");
    send.textContent = en() ? "Upload" : "上传"; send.dataset.action = "upload";
    send.addEventListener("click", () => upload(p.name, file));
    replace.append(file, send);
    if (view.phone) {
      const rec = document.createElement("button");
      rec.textContent = en() ? "Record from my phone" : "用话机录制"; rec.dataset.action = "record";
      rec.addEventListener("click", () => record(p.name));
      replace.append(rec);
    }
    const versions = document.createElement("td");
    for (const v of [...p.versions].reverse()) {
      const line = document.createElement("div");
      line.className = "version";
      line.dataset.version = v.id;
      const back = document.createElement("button");
      back.textContent = en() ? "Restore" : "恢复"; back.dataset.action = "restore";
      back.addEventListener("click", () => restore(p.name, v.id));
      line.append(when(v.id) + " · " + seconds(v.seconds) + " ", player(p.name, v.id), back);
      versions.append(line);
    }
    tr.append(cell(p.name), cell(p.text || ""), cell(seconds(p.seconds)), listen, replace, versions);
    return tr;
  }

  async function load() {
    const res = await fetch("/api/voice");
    if (!res.ok) return;
    view = await res.json();
    document.querySelector("#prompts tbody").replaceChildren(...view.prompts.map(row));
  }
  document.addEventListener("DOMContentLoaded", load);
})();
