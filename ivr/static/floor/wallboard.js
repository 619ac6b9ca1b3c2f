// The live wallboard: renders each "wallboard" event of /api/v1/wallboard/events (pushed by
// the server on every change of the floor and every few seconds). No polling, no library.
"use strict";

(function () {
  const board = document.getElementById("board");
  const status = document.getElementById("board-status");
  const at = document.getElementById("board-at");
  const STATES = { available: "Available", reserved: "Offered", on_call: "On call",
                   wrap_up: "Wrap-up", on_break: "On break" };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c);
    return node;
  }

  function secs(v) { return v === null || v === undefined ? "–" : v.toFixed(1) + " s"; }
  function pct(v) { return v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%"; }

  function tile(key, value, cls, name) {
    return el("div", { class: "tile " + (cls || ""), "data-figure": name || "" },
      el("span", { class: "v" }, String(value)), el("span", { class: "k" }, key));
  }

  function chart(svgText) {
    // The server's own SVG (its texts escaped there), parsed as SVG, never as HTML.
    const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
    const figure = el("figure", { class: "chart" });
    if (doc.documentElement.nodeName === "svg") figure.append(document.importNode(doc.documentElement, true));
    return figure;
  }

  const REPAIRS = { "call-ended": "Calls ended (Twilio had ended them)",
                    "caller-requeued": "Callers brought back in line",
                    "agent-freed": "Call-takers freed from a dead call",
                    "accept-closed": "Accepts of a caller already gone",
                    "journal": "Events applied after an outage",
                    "journal-set-aside": "Events set aside",
                    "call-unrecorded": "Calls that never reached the center" };

  // What the reconciler and the outage journal repaired today: a supervisor sees that a
  // fault happened and what it touched (the latest few, newest first).
  function repairs(r) {
    const section = el("section", { class: "board-repairs", "data-total": String(r ? r.total : 0) },
      el("h2", {}, "Repairs after faults today"));
    if (!r || !r.total) {
      section.append(el("p", { class: "muted" }, "None: live state and Twilio agree."));
      return section;
    }
    const tiles = el("div", { class: "tiles" });
    for (const [kind, label] of Object.entries(REPAIRS)) {
      if (r.by_kind[kind]) tiles.append(tile(label, r.by_kind[kind], kind === "journal-set-aside" ? "bad" : "", "repairs-" + kind));
    }
    const list = el("ul", { class: "repairs-latest" });
    for (const x of r.latest) {
      list.append(el("li", {}, el("time", { datetime: x.at }, new Date(x.at).toLocaleTimeString()),
        " " + x.differed + ": " + x.done));
    }
    section.append(tiles, list);
    return section;
  }

  const REASONS = { "no-staff": "Nobody on duty", "max-wait": "Waited too long",
                    "all-busy": "All call-takers busy" };

  // Callers put through to an alternate PSAP today: how many, why, and how fast it answered.
  function rollovers(r) {
    const section = el("section", { class: "board-rollovers", "data-started": String(r ? r.started : 0) },
      el("h2", {}, "Rollovers to other PSAPs today"));
    if (!r || !r.started) {
      section.append(el("p", { class: "muted" }, "None."));
      return section;
    }
    const tiles = el("div", { class: "tiles" },
      tile("Rolled over", r.started, "bad", "rollovers"),
      tile("Ringing there now", r.in_progress, r.in_progress ? "bad" : "", "rollovers-ringing"),
      tile("Answered there", r.answered, "", "rollovers-answered"),
      tile("Answer there (mean)", secs(r.answer_seconds_mean), "", "rollovers-answer"));
    for (const [reason, label] of Object.entries(REASONS)) {
      if (r.by_reason[reason]) tiles.append(tile(label, r.by_reason[reason], "", "rollovers-" + reason));
    }
    for (const [why, n] of Object.entries(r.failed)) {
      tiles.append(tile("Back in line (" + why + ")", n, "bad", "rollovers-failed-" + why));
    }
    section.append(tiles);
    return section;
  }

  function render(data) {
    const parts = [];
    for (const c of data.classes) {
      const tiles = el("div", { class: "tiles" },
        tile("Calls waiting", c.waiting, c.waiting ? "bad" : "", "waiting"),
        tile("Longest wait", secs(c.longest_wait_seconds), "", "longest"),
        tile("Answered today", c.answered, "", "answered"),
        tile("Abandoned today", c.abandoned, "", "abandoned"),
        tile("ASA", secs(c.asa_seconds), "", "asa"),
        tile("Abandon rate", pct(c.abandon_rate), "", "abandon-rate"),
        tile("Transfers", c.transfers, "", "transfers"));
      for (const s of c.service_levels) {
        const ok = s.value === null ? "" : (100 * s.value >= s.goal ? "ok" : "bad");
        tiles.append(tile("Service level " + s.label, pct(s.value), ok, "sl-" + s.within));
      }
      const states = el("div", { class: "tiles" });
      for (const [state, label] of Object.entries(STATES)) {
        states.append(tile(label, c.agents[state] || 0, "", "agents-" + state));
      }
      parts.push(el("section", { class: "board-class", "data-class": c.queue_class },
        el("h2", {}, c.queue_class), tiles, states, chart(c.chart_svg)));
    }
    // Repairs come first when there are any: a fault today is news for the supervisor.
    // A rollover today is news too: the floor could not answer its own 911 calls.
    if (data.rollovers && data.rollovers.started) parts.unshift(rollovers(data.rollovers));
    else parts.push(rollovers(data.rollovers));
    const repaired = repairs(data.repairs);
    if (data.repairs && data.repairs.total) parts.unshift(repaired); else parts.push(repaired);
    board.replaceChildren(...parts);
    at.textContent = "as of " + new Date(data.at).toLocaleTimeString();
    // The live calls (listen / coach / barge) are monitor.js's: it gets each board too.
    document.dispatchEvent(new CustomEvent("ivr:wallboard", { detail: data }));
  }

  const source = new EventSource("/api/v1/wallboard/events");
  source.addEventListener("wallboard", (e) => {
    status.textContent = "Live";
    status.className = "pill pill-ok";
    render(JSON.parse(e.data));
  });
  source.addEventListener("error", () => {
    status.textContent = "Reconnecting…";
    status.className = "pill pill-bad";
  });
})();
