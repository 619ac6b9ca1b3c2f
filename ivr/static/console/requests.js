// The service-request form of the call-takers' console: a drawer that follows the call-taker's
// current or last call, shows what the phone collected, the call's requests and the caller's
// earlier ones, and makes and updates requests (JSON API /api/v1/calls/{sid}/requests).
// Apart from console.js on purpose: it reads the call from the API, and watches only the state
// badge of the page to know when to.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const COLLECTED = {
    topic: "Topic", service: "Service", request_number: "Request number keyed",
    callback_number: "Callback number", address_recording: "Address (recording)",
    answer_position: "Where", answer_problem: "Problem", answer_how_many: "How many",
    answer_missed: "Missed", answer_on_time: "Out on time", filed_number: "Filed as",
  };

  const state = { sid: null, caller: "", services: [], byCode: {}, data: null, editing: null };

  const api = window.ivr.api.request;  // ivr/static/shared/api.js

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "text") node.textContent = value; else node.setAttribute(name, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  // -- which call -----------------------------------------------------------------------------

  // The call-taker's state badge (#state[data-state], kept by console.js) changes whenever a
  // call is taken or ends: only then is the current call asked for again. No polling.
  async function follow() {
    try {
      const data = await api("GET", "/call");
      const call = data && data.call;
      const sid = call ? call.call : null;
      if (sid !== state.sid) {
        state.sid = sid;
        state.caller = call ? call.caller || "" : "";
        state.startedAt = call ? call.started_at || "" : "";
        resetForm();
        await load();
      }
    } catch (_) { /* signed out or offline: console.js says so */ }
  }

  // The call as the call-taker knows it: the caller's number, grouped, and when it came in.
  function callTitle() {
    const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(state.caller || "");
    const who = m ? `+1 (${m[1]}) ${m[2]}-${m[3]}` : state.caller || "withheld number";
    const at = window.ivr.time.hm(state.startedAt);
    return at ? `Call from ${who} at ${at}` : `Call from ${who}`;
  }

  async function load() {
    $("sr-toggle").disabled = !state.sid;
    $("sr-call").textContent = state.sid ? callTitle() : "";
    if (!state.sid) { state.data = null; render(); return; }
    try {
      state.data = await api("GET", `/calls/${encodeURIComponent(state.sid)}/requests`);
    } catch (error) {
      state.data = null;
      $("sr-error").textContent = error.message;
    }
    render();
  }

  // -- showing --------------------------------------------------------------------------------

  function render() {
    const data = state.data || { requests: [], earlier_requests: [], collected: {} };
    $("sr-count").textContent = String(data.requests.length);
    const facts = $("sr-collected");
    facts.replaceChildren();
    for (const [key, label] of Object.entries(COLLECTED)) {
      const value = data.collected[key];
      if (value === undefined) continue;
      const shown = key === "address_recording"
        ? el("a", { href: value, target: "_blank", rel: "noopener", text: "listen" })
        : document.createTextNode(String(value));
      facts.append(el("dt", { text: label }), el("dd", {}, shown));
    }
    $("sr-collected-box").hidden = !facts.children.length;
    list($("sr-linked"), $("sr-linked-empty"), data.requests, true);
    list($("sr-earlier"), $("sr-earlier-empty"), data.earlier_requests, true);
  }

  function list(target, empty, requests, editable) {
    target.replaceChildren(...requests.map((r) => item(r, editable)));
    empty.hidden = requests.length > 0;
  }

  function item(r, editable) {
    const when = r.requested_at ? window.ivr.time.date(r.requested_at) : "";
    const head = el("div", { class: "sr-item-head" },
      el("b", { class: "sr-number", text: r.number }),
      el("span", { class: `sr-status sr-${r.status}`, text: r.status }),
      el("span", { text: `${r.service_name} · ${when}` }));
    const place = r.address || (r.address_audio_url ? "address recorded by phone" : "");
    const body = el("div", { class: "hint", text: [place, r.status_notes].filter(Boolean).join(" · ") });
    const links = r.links && r.links.length ? el("span", { class: "sr-links", text: r.links.join(", ") }) : null;
    const li = el("li", { "data-number": r.number }, head, body, links);
    if (editable) li.append(updater(r));
    return li;
  }

  // Loads a request into the form: "Save changes" then corrects it (service, answers, place).
  function edit(r) {
    resetForm();
    state.editing = r.number;
    $("sr-form-title").textContent = `Change ${r.number}`;
    $("sr-create").textContent = "Save changes";
    $("sr-cancel").hidden = false;
    $("sr-service").value = r.service_code;
    questions();
    for (const [code, value] of Object.entries(r.attributes || {})) {
      const input = $(`sr-q-${code}`);
      if (!input) continue;
      if (input.dataset.multi) {
        for (const box of input.querySelectorAll("input")) box.checked = [].concat(value).includes(box.value);
      } else input.value = value;
    }
    $("sr-address").value = r.address || "";
    $("sr-lat").value = r.lat ?? "";
    $("sr-long").value = r.long ?? "";
    $("sr-description").value = r.description || "";
    $("sr-callback").value = r.callback_number || "";
    $("sr-callback").disabled = true;  // a request's callback number is the caller's to change
    $("sr-service").focus();
  }

  function updater(r) {
    const status = el("select", { "aria-label": `Status of ${r.number}` },
      el("option", { value: "", text: "Keep status" }),
      el("option", { value: "open", text: "Open" }),
      el("option", { value: "closed", text: "Closed" }));
    const note = el("input", { type: "text", maxlength: "4000", placeholder: "Note (public with a status change)",
      "aria-label": `Note on ${r.number}` });
    const button = el("button", { class: "btn", type: "button", text: "Update" });
    const change = el("button", { class: "btn btn-quiet", type: "button", text: "Edit" });
    change.addEventListener("click", () => edit(r));
    button.addEventListener("click", async () => {
      const body = {};
      const text = note.value.trim();
      if (status.value) { body.status = status.value; if (text) body.status_notes = text; }
      else if (text) body.note = text;
      if (!Object.keys(body).length) return;
      await send("PATCH", `/calls/${encodeURIComponent(state.sid)}/requests/${encodeURIComponent(r.number)}`, body);
    });
    return el("div", { class: "sr-update" }, status, note, button, change);
  }

  // -- the form -------------------------------------------------------------------------------

  async function loadServices() {
    try {
      state.services = (await api("GET", "/services")).services;
    } catch (_) { state.services = []; }
    const select = $("sr-service");
    const groups = {};
    for (const s of state.services) {
      state.byCode[s.code] = s;
      const name = s.group || "Other";
      if (!groups[name]) { groups[name] = el("optgroup", { label: name }); select.append(groups[name]); }
      groups[name].append(el("option", { value: s.code, text: s.name }));
    }
  }

  function questions() {
    const box = $("sr-questions");
    box.replaceChildren();
    const service = state.byCode[$("sr-service").value];
    for (const q of service ? service.questions : []) {
      const id = `sr-q-${q.code}`;
      if (!q.variable) { box.append(el("p", { class: "sr-notice", text: q.description })); continue; }
      const label = el("label", { for: id, text: `${q.description || q.code}${q.required ? " *" : ""}` });
      let input;
      if (q.datatype === "singlevaluelist") {
        input = el("select", { id, "data-code": q.code }, el("option", { value: "", text: "—" }),
          ...q.values.map((v) => el("option", { value: v.key, text: v.name })));
      } else if (q.datatype === "multivaluelist") {
        input = el("fieldset", { id, "data-code": q.code, "data-multi": "1", class: "sr-multi" },
          ...q.values.map((v) => el("label", {},
            el("input", { type: "checkbox", value: v.key }), document.createTextNode(` ${v.name}`))));
      } else if (q.datatype === "text") {
        input = el("textarea", { id, "data-code": q.code, rows: "2" });
      } else {
        input = el("input", { id, "data-code": q.code, type: "text" });
      }
      box.append(label, input);
    }
  }

  function answers() {
    const found = {};
    for (const input of $("sr-questions").querySelectorAll("[data-code]")) {
      if (input.dataset.multi) {
        const keys = [...input.querySelectorAll("input:checked")].map((c) => c.value);
        if (keys.length) found[input.dataset.code] = keys;
      } else if (input.value.trim()) {
        found[input.dataset.code] = input.value.trim();
      }
    }
    return found;
  }

  function resetForm() {
    state.editing = null;
    $("sr-form-title").textContent = "New request";
    $("sr-create").textContent = "Create request";
    $("sr-cancel").hidden = true;
    $("sr-callback").disabled = false;
    $("sr-form").reset();
    questions();
    $("sr-error").textContent = "";
    const collected = (state.data && state.data.collected) || {};
    $("sr-callback").value = collected.callback_number || state.caller || "";
  }

  async function create(event) {
    event.preventDefault();
    const body = { service_code: $("sr-service").value, attributes: answers() };
    const fields = [["address", "sr-address"], ["description", "sr-description"], ["note", "sr-note"],
      ["lat", "sr-lat"], ["long", "sr-long"]];
    if (!state.editing) fields.push(["callback_number", "sr-callback"]);
    for (const [field, id] of fields) {
      const value = $(id).value.trim();
      if (value) body[field] = value;
      else if (state.editing && field === "description") body[field] = "";
    }
    if (!body.service_code) { $("sr-error").textContent = "Choose a service."; return; }
    const sid = encodeURIComponent(state.sid);
    if (state.editing) {
      const number = state.editing;
      const saved = await send("PATCH", `/calls/${sid}/requests/${encodeURIComponent(number)}`, body);
      if (saved) { resetForm(); $("sr-error").textContent = `Request ${number} changed.`; }
      return;
    }
    const made = await send("POST", `/calls/${sid}/requests`, body);
    if (made) {
      resetForm();
      $("sr-error").textContent = `Request ${made.request.number} created.`;
    }
  }

  async function send(method, path, body) {
    $("sr-error").textContent = "";
    try {
      const data = await api(method, path, body);
      await load();
      return data;
    } catch (error) {
      $("sr-error").textContent = error.message;
      return null;
    }
  }

  function toggle(open) {
    $("sr-panel").hidden = !open;
    $("sr-toggle").setAttribute("aria-expanded", String(open));
    if (open) { resetForm(); load(); }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("sr-toggle").addEventListener("click", () => toggle($("sr-panel").hidden));
    $("sr-close").addEventListener("click", () => toggle(false));
    $("sr-service").addEventListener("change", questions);
    $("sr-form").addEventListener("submit", create);
    $("sr-cancel").addEventListener("click", resetForm);
    await loadServices();
    new MutationObserver(follow).observe($("state"), { attributes: true, attributeFilter: ["data-state"] });
    follow();
  });
})();
