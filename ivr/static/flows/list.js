// The flows page (ivr/templates/flows/list.html): every flow with its live version and draft,
// and each line's storm or closure message, switched on or off in one step.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);

  const call = window.ivr.api.reply;  // ivr/static/shared/api.js

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) node.append(child);
    return node;
  }

  const status = (message) => { $("list-status").textContent = message; };

  async function loadFlows() {
    const reply = await call("GET", "/flows");
    if (!reply.ok) { status(reply.data.error.message); return; }
    $("flows").tBodies[0].replaceChildren(...reply.data.flows.map((f) => {
      const draft = f.draft_problems
        ? el("span", { class: "pill pill-bad" }, `${f.draft_problems} problem(s)`)
        : el("span", { class: "pill" + (f.draft_differs ? " pill-ok" : "") },
          f.draft_differs ? "changes ready to publish" : "same as live");
      return el("tr", { "data-flow": f.flow },
        el("td", {}, el("strong", {}, f.flow)),
        el("td", {}, f.lines.join(", ") || "—"),
        el("td", {}, f.live_version ? `version ${f.live_version}` : "nothing live"),
        el("td", {}, draft, ` r${f.draft_revision} · ${f.draft_saved_by}`),
        el("td", {}, el("a", { class: "btn btn-small", href: `/console/flows/${encodeURIComponent(f.flow)}` },
          "Open editor")));
    }));
  }

  function card(row) {
    const box = el("article", { class: "fx-ann" + (row.on ? " on" : ""), "data-line": row.line });
    const state = el("span", { class: "pill " + (row.on ? "pill-bad" : "") },
      row.on ? `ON since ${window.ivr.time.dateTime(row.set_at)} (${row.set_by})` : "off");
    box.append(el("header", {}, el("strong", {}, `Line ${row.line}`),
      el("span", { class: "muted" }, `flow ${row.flow}`), state));
    if (!row.speaks) {
      box.append(el("p", { class: "muted" },
        "This line's flow never speaks an announcement (it has no prompt with when_var: announcement)."));
      return box;
    }
    const fields = {};
    for (const [lang, tag] of Object.entries(row.languages)) {
      fields[lang] = el("textarea", { "data-lang": lang, value: row.text[lang] || "",
        placeholder: lang === "es" ? "Por ejemplo: Debido a la tormenta, ..." : "For example: Because of the storm, ..." });
      box.append(el("label", {}, el("span", { class: "lang" }, `${lang} (${tag})`), fields[lang]));
    }
    const on = el("button", { class: "btn btn-small btn-stop", type: "button" }, row.on ? "Update message" : "Switch on");
    const off = el("button", { class: "btn btn-small", type: "button", disabled: !row.on }, "Switch off");
    on.addEventListener("click", async () => {
      const text = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.value]));
      const reply = await call("POST", `/announcements/${encodeURIComponent(row.line)}`, { on: true, text });
      status(reply.ok ? `Line ${row.line}: the message is on for every new call.` : reply.data.error.message);
      if (reply.ok) loadAnnouncements();
    });
    off.addEventListener("click", async () => {
      const reply = await call("POST", `/announcements/${encodeURIComponent(row.line)}`, { on: false });
      status(reply.ok ? `Line ${row.line}: the message is off.` : reply.data.error.message);
      if (reply.ok) loadAnnouncements();
    });
    box.append(el("div", { class: "row" }, on, off));
    return box;
  }

  async function loadAnnouncements() {
    const reply = await call("GET", "/announcements");
    if (!reply.ok) { status(reply.data.error.message); return; }
    $("announcements").replaceChildren(...reply.data.lines.map(card));
  }

  loadFlows();
  loadAnnouncements();
})();
