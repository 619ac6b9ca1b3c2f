// The flow editor (ivr/templates/flows/editor.html): YAML with line numbers and problems marked
// at their lines, the diagram of the saved draft, a test call of the draft, publish with the
// diff against live, rollback. Everything goes through the JSON API (/api/v1/flows/...).
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const FLOW = meta("flow");

  const text = $("yaml");
  const gutter = $("gutter");
  const backdrop = $("backdrop");
  const state = { revision: 0, live: null, saved: "", problems: [], answers: [], lines: [],
                  busy: false, zoom: 0.8 };
  let checkTimer = 0;  // the check of unsaved text, after a pause in typing
  let checkSeq = 0;

  const call = (method, path, body) =>  // ivr/static/shared/api.js
    window.ivr.api.reply(method, `/flows/${encodeURIComponent(FLOW)}${path}`, body);

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

  function banner(message, ok, action) {
    const box = $("banner");
    const sentence = message ? message[0].toUpperCase() + message.slice(1) : "";
    box.replaceChildren(el("span", {}, sentence));
    if (action) box.append(action);
    box.classList.toggle("ok", Boolean(ok));
    box.hidden = false;
    document.body.classList.add("has-banner");
  }

  function clearBanner() {
    $("banner").hidden = true;
    document.body.classList.remove("has-banner");
  }

  // -- the code area ---------------------------------------------------------------------------

  function paint() {
    const lines = text.value.split("\n");
    const bad = new Map();
    for (const p of state.problems) {
      bad.set(p.line, (bad.has(p.line) ? bad.get(p.line) + "\n" : "") + p.message);
    }
    const numbers = document.createDocumentFragment();
    const shade = document.createDocumentFragment();
    lines.forEach((line, i) => {
      const n = i + 1;
      const number = el("div", { "data-line": n }, String(n));
      const row = el("span", { "data-line": n }, line + "\n");
      if (bad.has(n)) {
        number.classList.add("bad");
        number.title = bad.get(n);
        row.classList.add("bad");
      }
      numbers.append(number);
      shade.append(row);
    });
    gutter.replaceChildren(numbers);
    backdrop.replaceChildren(shade);
    sync();
  }

  function sync() {
    gutter.scrollTop = text.scrollTop;
    backdrop.style.transform = `translate(${-text.scrollLeft}px, ${-text.scrollTop}px)`;
  }

  function goToLine(n) {
    const lines = text.value.split("\n");
    const line = Math.max(1, Math.min(n, lines.length));
    let start = 0;
    for (let i = 0; i < line - 1; i++) start += lines[i].length + 1;
    text.focus();
    text.setSelectionRange(start, start + lines[line - 1].length);
    const height = parseFloat(getComputedStyle(text).lineHeight) || 20;
    text.scrollTop = Math.max(0, (line - 1) * height - text.clientHeight / 3);
    text.scrollLeft = 0;
    sync();
    const row = backdrop.querySelector(`span[data-line="${line}"]`);
    if (row) {
      row.classList.add("flash");
      setTimeout(() => row.classList.remove("flash"), 900);
    }
  }

  function showProblems() {
    const list = $("problem-list");
    const box = $("problems");
    const count = state.problems.length;
    $("problems-title").textContent = count === 0
      ? "No problems: the static check passes"
      : `${count} problem${count === 1 ? "" : "s"} (click one to go to its line)`;
    box.classList.toggle("clean", count === 0);
    list.replaceChildren(...state.problems.map((p) => {
      const item = el("li", { tabIndex: 0, "data-line": p.line },
        el("span", { class: "at" }, `Line ${p.line}`), el("span", {}, p.message));
      item.addEventListener("click", () => goToLine(p.line));
      item.addEventListener("keydown", (e) => { if (e.key === "Enter") goToLine(p.line); });
      return item;
    }));
    const pill = $("check-pill");
    pill.textContent = count === 0 ? "check passes" : `${count} problem${count === 1 ? "" : "s"}`;
    pill.className = "pill " + (count === 0 ? "pill-ok" : "pill-bad");
    paint();
  }

  function showDraftPill() {
    const dirty = text.value !== state.saved;
    const pill = $("draft-pill");
    pill.textContent = dirty ? `draft r${state.revision} · unsaved changes` : `draft r${state.revision} · saved`;
    pill.className = "pill " + (dirty ? "pill-bad" : "");
    $("live-pill").textContent = state.live ? `live: version ${state.live}` : "nothing live";
    $("live-pill").className = "pill pill-live";
  }

  // -- load and save ---------------------------------------------------------------------------

  async function load() {
    const reply = await call("GET", "");
    if (!reply.ok) { banner(reply.data.error ? reply.data.error.message : "Could not load."); return; }
    const draft = reply.data.draft;
    text.value = draft.text;
    state.saved = draft.text;
    state.revision = draft.revision;
    state.live = draft.live_version;
    state.problems = reply.data.problems;
    state.lines = reply.data.lines;
    $("flow-lines").textContent = state.lines.length ? `· line ${state.lines.join(", ")}` : "· no line runs it";
    showDraftPill();
    showProblems();
    loadDiagram();
    loadHistory();
  }

  async function save() {
    if (state.busy) return false;
    state.busy = true;
    try {
      clearTimeout(checkTimer);
      checkSeq++;
      const body = { text: text.value, revision: state.revision };
      const reply = await call("POST", "/draft", body);
      if (reply.status === 409) {
        const reload = el("button", { class: "btn btn-small", type: "button" }, "Load their draft");
        reload.addEventListener("click", () => { clearBanner(); load(); });
        banner(reply.data.error.message, false, reload);
        return false;
      }
      if (!reply.ok) { banner(reply.data.error.message); return false; }
      clearBanner();
      state.saved = body.text;
      state.revision = reply.data.revision;
      state.problems = reply.data.problems;
      showDraftPill();
      if (reply.data.unchanged) $("draft-pill").textContent = `draft r${state.revision} · no changes to save`;
      showProblems();
      loadDiagram();
      loadHistory();
      return true;
    } finally {
      state.busy = false;
    }
  }

  async function savedFirst() {
    return text.value === state.saved ? true : save();
  }

  // -- diagram ---------------------------------------------------------------------------------

  function zoom(level) {
    state.zoom = Math.min(2, Math.max(0.2, level));
    const svg = $("diagram").querySelector("svg");
    if (svg) {  // CSSOM, not a style attribute: the page's CSP refuses inline styles
      svg.style.width = `${Number(svg.getAttribute("width")) * state.zoom}px`;
      svg.style.height = `${Number(svg.getAttribute("height")) * state.zoom}px`;
    }
    $("zoom-level").textContent = `${Math.round(state.zoom * 100)}%`;
  }

  function wide(on) {
    document.body.classList.toggle("wide-diagram", on);
    $("btn-wide").setAttribute("aria-pressed", String(on));
    $("btn-wide").textContent = on ? "Show YAML" : "Wide";
  }

  // Fit: the whole diagram if it can be read that small, else as much as can be read, from
  // its start, with the rest a scroll away (a shrunken picture of unreadable boxes helps nobody).
  const READABLE = 0.7;  // node names at 9 px
  function fit() {
    const box = $("diagram");
    const svg = box.querySelector("svg");
    if (!svg) return;
    wide(true);
    const whole = Math.min((box.clientWidth - 4) / Number(svg.getAttribute("width")),
                           (box.clientHeight - 4) / Number(svg.getAttribute("height")));
    zoom(Math.min(1, Math.max(READABLE, whole)));
    box.scrollLeft = 0;
    box.scrollTop = 0;
    $("diagram-note").textContent = whole >= READABLE
      ? "The whole flow. Click a node to find it in the YAML."
      : "Too large to show whole and still read it: scroll sideways for the rest.";
  }

  async function loadDiagram() {
    const box = $("diagram");
    const reply = await call("GET", "/diagram?version=draft&embed=1");
    if (reply.ok) {
      const first = !box.querySelector("svg");
      box.innerHTML = reply.data;  // SVG made by the server from the parsed flow (escaped there)
      zoom(state.zoom);
      const start = box.querySelector("g.n.start rect");
      if (first && start) box.scrollTop = Number(start.getAttribute("y")) * state.zoom - 120;
      $("diagram-note").textContent = `The draft, revision ${state.revision}. Click a node to find it in the YAML.`;
      box.querySelectorAll("g.n").forEach((node) => {
        node.addEventListener("click", () => goToLine(Number(node.dataset.line)));
        node.addEventListener("keydown", (e) => { if (e.key === "Enter") goToLine(Number(node.dataset.line)); });
      });
    } else {
      $("diagram-note").textContent = "The draft has problems: fix them to see its diagram.";
      if (!box.querySelector("svg")) box.replaceChildren(el("p", { class: "stale" }, "No diagram yet."));
      box.classList.add("stale-diagram");
    }
  }

  // -- test call -------------------------------------------------------------------------------

  function answerText(answer) {
    if (answer === "(silence)") return "(silence)";
    if (answer === "record") return "leaves a message";
    if (answer.startsWith("say ")) return `says “${answer.slice(4)}”`;
    return `presses ${answer}`;
  }

  function setKeypad(enabled, recording) {
    document.querySelectorAll("#keypad .key").forEach((k) => { k.disabled = !enabled || recording; });
    $("answer-text").disabled = !enabled || recording;
    $("btn-answer").disabled = !enabled || recording;
    $("btn-silence").disabled = !enabled;
    $("btn-record").disabled = !enabled || !recording;
  }

  async function runTrial() {
    if (!(await savedFirst())) return;
    const body = { answers: state.answers };
    if ($("trial-at").value) body.at = $("trial-at").value;
    const reply = await call("POST", "/trial", body);
    const list = $("transcript");
    const ending = $("trial-ending");
    if (!reply.ok) {
      list.replaceChildren();
      ending.hidden = false;
      ending.className = "fx-ending failed";
      ending.textContent = reply.data.error.message;
      setKeypad(false, false);
      return;
    }
    const result = reply.data;
    const items = [];
    for (const turn of result.turns) {
      for (const heard of turn.heard) {
        items.push(el("li", { class: "heard" }, el("span", { class: "lang" }, heard.language || "audio"),
          heard.text));
      }
      if (turn.answer !== null) items.push(el("li", { class: "answer" }, `Caller ${answerText(turn.answer)}`));
    }
    if (result.waiting_for) {
      items.push(el("li", { class: "asking" },
        result.waiting_for === "recording" ? "Recording after the beep…" : "Waiting for the caller…"));
    }
    list.replaceChildren(...items);
    ending.hidden = Boolean(result.waiting_for);
    ending.className = "fx-ending" + (result.problems.length ? " failed" : "");
    ending.textContent = result.waiting_for ? "" :
      `Call over: ${result.ending}.` + (result.problems.length ? ` ${result.problems.join(" ")}` : "");
    setKeypad(Boolean(result.waiting_for), result.waiting_for === "recording");
    list.lastElementChild && list.lastElementChild.scrollIntoView({ block: "nearest" });
  }

  function answer(value) {
    state.answers.push(value);
    runTrial();
  }

  // -- versions, audit, publish, rollback ------------------------------------------------------

  async function loadHistory() {
    const [versions, audit] = await Promise.all([call("GET", "/versions"), call("GET", "/audit")]);
    if (versions.ok) {
      const rows = versions.data.versions.map((v) => {
        const actions = el("td", {});
        const compare = el("button", { class: "btn btn-small btn-quiet", type: "button" }, "Diff with draft");
        compare.addEventListener("click", () => showDiff(v.version, "draft"));
        actions.append(compare);
        if (!v.live) {
          const back = el("button", { class: "btn btn-small", type: "button", "data-version": v.version },
            "Make live");
          back.addEventListener("click", () => confirmRollback(v.version));
          actions.append(" ", back);
        }
        const row = el("tr", { class: v.live ? "live" : "" },
          el("td", {}, `v${v.version}${v.live ? " · live" : ""}`),
          el("td", {}, window.ivr.time.dateTime(v.published_at)),
          el("td", {}, v.published_by), el("td", {}, v.note), actions);
        return row;
      });
      $("versions").tBodies[0].replaceChildren(...rows);
    }
    if (audit.ok) {
      $("audit").replaceChildren(...audit.data.entries.slice(0, 60).map((a) =>
        el("li", {}, el("span", { class: "muted" }, window.ivr.time.dateTime(a.at)), " ",
          el("span", { class: `act ${a.action}` }, a.action), " ",
          el("strong", {}, a.actor), ` ${a.detail}`)));
    }
  }

  function renderDiff(diff) {
    const rows = diff.lines.map((line) => {
      const mark = { added: "+", removed: "−", same: " ", gap: "" }[line.kind];
      return el("div", { class: line.kind },
        el("span", { class: "no" }, line.kind === "gap" ? "" : String(line.old ?? "")),
        el("span", { class: "no" }, line.kind === "gap" ? "" : String(line.new ?? "")),
        el("span", {}, mark), el("span", {}, line.text));
    });
    $("confirm-diff").replaceChildren(...(rows.length ? rows : [el("div", {}, "No difference.")]));
  }

  let onConfirm = null;

  function openDialog(title, summary, okLabel, action) {
    $("confirm-title").textContent = title;
    $("confirm-summary").textContent = summary;
    $("confirm-error").textContent = "";
    $("confirm-ok").textContent = okLabel || "";
    $("confirm-ok").hidden = !okLabel;
    $("confirm-note-label").hidden = okLabel !== "Publish";
    $("confirm-note").value = "";
    onConfirm = action;
    $("confirm").showModal();
  }

  async function showDiff(from, to) {
    const reply = await call("GET", `/diff?from=${from}&to=${to}`);
    if (!reply.ok) { banner(reply.data.error.message); return; }
    renderDiff(reply.data);
    openDialog(`Version ${from} and the draft`, reply.data.summary, null, null);
  }

  async function confirmPublish() {
    if (!(await savedFirst())) return;
    if (state.problems.length) {
      banner(`The draft has ${state.problems.length} problem(s): fix them before publishing.`);
      goToLine(state.problems[0].line);
      return;
    }
    const reply = await call("GET", state.live ? "/diff?from=live&to=draft" : "/diff?from=draft&to=draft");
    if (!reply.ok) { banner(reply.data.error.message); return; }
    renderDiff(reply.data);
    const lines = state.lines.length ? `line ${state.lines.join(", ")}` : "no line yet";
    const against = state.live
      ? `Changes against live version ${state.live}: ${reply.data.added} line(s) added, ` +
        `${reply.data.removed} removed.`
      : "Nothing of this flow is live yet: this will be its first version.";
    openDialog(`Publish flow ${FLOW}?`,
      `${against} New calls on ${lines} get the new version at once; ` +
      "calls already in progress keep the version they started with.", "Publish", async () => {
        const result = await call("POST", "/publish",
          { revision: state.revision, note: $("confirm-note").value });
        if (!result.ok) {
          const error = result.data.error;
          $("confirm-error").textContent = error.message;
          if (error.problems) { state.problems = error.problems; showProblems(); }
          return false;
        }
        state.live = result.data.live_version;
        showDraftPill();
        loadHistory();
        banner(`Version ${result.data.live_version} of flow ${FLOW} is live.`, true);
        return true;
      });
  }

  async function confirmRollback(version) {
    const reply = await call("GET", `/diff?from=live&to=${version}`);
    if (!reply.ok) { banner(reply.data.error.message); return; }
    renderDiff(reply.data);
    openDialog(`Make version ${version} live again?`,
      `Live now: version ${state.live}. New calls get version ${version} at once; the draft is ` +
      "not changed.", `Make version ${version} live`, async () => {
        const result = await call("POST", "/rollback", { version });
        if (!result.ok) { $("confirm-error").textContent = result.data.error.message; return false; }
        state.live = result.data.live_version;
        showDraftPill();
        loadHistory();
        banner(`Version ${result.data.live_version} of flow ${FLOW} is live again.`, true);
        return true;
      });
  }

  // -- wiring ----------------------------------------------------------------------------------

  // While typing, the same check runs on the unsaved text after a short pause (nothing saved).
  async function checkUnsaved() {
    const seq = ++checkSeq;
    const body = text.value;
    const reply = await call("POST", "/check", { text: body });
    if (!reply.ok || seq !== checkSeq || text.value !== body) return;  // stale: typed since
    state.problems = reply.data.problems;
    showProblems();
  }
  text.addEventListener("input", () => {
    paint();
    showDraftPill();
    clearTimeout(checkTimer);
    checkTimer = setTimeout(checkUnsaved, 700);
  });
  text.addEventListener("scroll", sync);
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") { e.preventDefault(); save(); }
  });
  text.addEventListener("keydown", (e) => {
    if (e.key === "Tab" && !e.shiftKey) {  // two spaces, as YAML wants (Shift+Tab leaves the field)
      e.preventDefault();
      text.setRangeText("  ", text.selectionStart, text.selectionEnd, "end");
      text.dispatchEvent(new Event("input"));
    }
  });
  $("btn-save").addEventListener("click", save);
  $("btn-publish").addEventListener("click", confirmPublish);
  $("btn-zoom-in").addEventListener("click", () => zoom(state.zoom * 1.25));
  $("btn-zoom-out").addEventListener("click", () => zoom(state.zoom / 1.25));
  $("btn-fit").addEventListener("click", fit);
  $("btn-wide").addEventListener("click", () => wide(!document.body.classList.contains("wide-diagram")));
  document.querySelectorAll(".fx-tabs button").forEach((tab) => {
    tab.addEventListener("click", () => {
      document.querySelectorAll(".fx-tabs button").forEach((t) => {
        t.setAttribute("aria-selected", String(t === tab));
        $(t.dataset.panel).hidden = t !== tab;
      });
    });
  });
  $("btn-trial-start").addEventListener("click", () => { state.answers = []; runTrial(); });
  document.querySelectorAll("#keypad .key").forEach((key) => {
    key.addEventListener("click", () => answer(key.dataset.key));
  });
  $("answer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = $("answer-text").value.trim();
    if (!value) return;
    $("answer-text").value = "";
    answer(value);
  });
  $("btn-silence").addEventListener("click", () => answer(""));
  $("btn-record").addEventListener("click", () => answer("record"));
  $("confirm-cancel").addEventListener("click", (e) => { e.preventDefault(); $("confirm").close(); });
  $("confirm-ok").addEventListener("click", async (e) => {
    e.preventDefault();
    if (onConfirm && (await onConfirm())) $("confirm").close();
  });
  window.addEventListener("beforeunload", (e) => {
    if (text.value !== state.saved) { e.preventDefault(); e.returnValue = ""; }
  });

  load();
})();
