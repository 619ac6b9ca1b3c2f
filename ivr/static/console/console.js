// The call-takers' console. Plain JavaScript: fetch for actions, EventSource for what the
// server pushes (presence changes and offers), and Twilio's Voice SDK (served by this app) as
// the browser phone. The screen is always rebuilt from one `view` object, so a reconnect or a
// missed event is repaired by the next snapshot.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;

  const STATES = {
    offline: "Offline", available: "Available", reserved: "Ringing", on_call: "On call",
    wrap_up: "Wrap-up", on_break: "On break",
  };
  const LANGUAGES = { en: "English", es: "Spanish · Español" };

  const view = {
    me: meta("agent"), presence: null, offer: null, call: null,
    dispositions: [], lastEventId: 0, offerSeenAt: 0, skew: 0,
  };

  // -- the API --------------------------------------------------------------------------------

  const api = window.ivr.api.request;  // ivr/static/shared/api.js

  async function act(method, path, body, done) {
    try {
      const data = await api(method, path, body);
      if (data && data.presence !== undefined) view.presence = data.presence;
      if (data && data.call !== undefined) view.call = data.call;
      if (data && data.server_time) serverTime(data.server_time);
      say("");
      if (done) done(data);
      render();
      return data;
    } catch (error) {
      say(error.message);
      await refresh();
      return null;
    }
  }

  async function refresh() {
    try {
      const me = await api("GET", "/me");
      // The session's token as the server has it now: every page script sends the meta tag's.
      document.querySelector('meta[name="csrf-token"]').content = me.csrf_token;
      serverTime(me.server_time);
      view.presence = me.presence;
      view.call = me.call;
      setOffer(me.offer, "fetch");
      if (!view.dispositions.length) setupChoices(me);
      render();
    } catch (error) {
      say(error.message);
    }
  }

  // The server's clock, not this computer's, times every state (the two may disagree).
  function serverTime(at) {
    if (typeof at === "number") view.skew = at - Date.now() / 1000;
  }

  function say(text, ok) {
    const message = $("message");
    message.textContent = text || "";
    message.className = ok ? "ok" : "";
  }

  // -- the live stream ------------------------------------------------------------------------

  function listen() {
    const source = new EventSource("/api/v1/events");
    source.addEventListener("snapshot", (e) => {
      const data = JSON.parse(e.data);
      connected(true);
      view.presence = data.presence;
      setOffer(data.offer, "stream");
      refresh();
    });
    source.onmessage = (e) => {
      const event = JSON.parse(e.data);
      if (event.id && event.id <= view.lastEventId) return;
      if (event.id) view.lastEventId = event.id;
      if (event.agent !== view.me) return;
      if (event.event === "supervisor") { refresh(); return; }  // a supervisor joined, switched, left
      if (view.presence) view.presence.state = event.state;
      if (event.event === "offered" && event.offer) {
        setOffer(event.offer, "stream");
        render();
        return;
      }
      if (["rejected", "expired", "cancelled", "accepted"].includes(event.event)) setOffer(null);
      if (event.event === "expired") say("The offer timed out and went back in line.");
      if (event.event === "cancelled") say("The caller hung up before the call was answered.");
      render();
      refresh();
    };
    source.onerror = () => connected(false);  // EventSource reconnects by itself
  }

  function connected(ok) {
    const pill = $("conn-status");
    pill.textContent = ok ? "Live" : "Reconnecting…";
    pill.className = `pill ${ok ? "pill-ok" : "pill-bad"}`;
  }

  // -- rendering ------------------------------------------------------------------------------

  // `via`: how this offer reached the page ("stream" or "fetch"), kept on <body> for tests.
  function setOffer(offer, via) {
    if (offer && (!view.offer || view.offer.reservation !== offer.reservation)) {
      view.offerSeenAt = performance.now();
      document.body.dataset.offerVia = via || "";
    }
    view.offer = offer || null;
  }

  function state() {
    return (view.presence && view.presence.state) || "offline";
  }

  function panel() {
    const s = state();
    if (s === "reserved" && view.offer) return "offer";
    if (s === "on_call" && view.call && view.call.active) return "call";
    if (view.call && !view.call.active && !view.call.disposition &&
        (s === "wrap_up" || s === "available" || s === "on_break")) return "wrapup";
    return "idle";
  }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
  }

  function serverNow() {
    return Date.now() / 1000 + view.skew;
  }

  function since(epoch) {
    return epoch ? serverNow() - epoch : 0;
  }

  // "main", "main:0" -> "main [0]": each menu with the key the caller pressed there.
  function menuPath(path) {
    const steps = [];
    for (const step of path || []) {
      const [node, choice] = step.split(":");
      const last = steps[steps.length - 1];
      if (choice !== undefined && last && last.node === node && last.choice === undefined) {
        last.choice = choice;
      } else {
        steps.push({ node, choice });
      }
    }
    return steps.map((s) => (s.choice === undefined ? s.node : `${s.node} [${s.choice}]`)).join(" › ");
  }

  // North American numbers grouped for reading aloud and dialing back; others as they are.
  function spoken(number) {
    const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number || "");
    return m ? `+1 (${m[1]}) ${m[2]}-${m[3]}` : number || "Unknown number";
  }

  function showNumber(element, number) {
    element.textContent = spoken(number);
    element.dataset.number = number || "";
  }

  function facts(target, call, extra) {
    const rows = [
      ["Line", call.line || "—"],
      ["Language", LANGUAGES[(call.language || "").slice(0, 2)] || call.language || "—"],
      ["Topic", call.topic || "—"],
      ["Menu path", menuPath(call.menu_path) || "—"],
      ...extra,
    ];
    target.replaceChildren(...rows.flatMap(([name, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      dd.textContent = value;
      if (name === "Waited") dd.id = `${target.id}-waited`;
      if (name === "Menu path") dd.className = "path";
      return [dt, dd];
    }));
  }

  function render() {
    const s = state();
    const badge = $("state");
    badge.dataset.state = s;
    let label = STATES[s] || s;
    if (s === "on_break" && view.presence.reason) label = `Break · ${view.presence.reason}`;
    $("state-label").textContent = label;
    document.title = s === "reserved" ? "● INCOMING CALL" : `${STATES[s] || s} · Call-taker console`;

    $("btn-available").disabled = !(s === "offline" || s === "on_break");
    $("btn-break").disabled = !(s === "available" || s === "wrap_up");
    $("break-reason").disabled = $("btn-break").disabled;
    $("btn-end-break").disabled = s !== "on_break";
    $("btn-queue-logout").disabled = !(s === "available" || s === "on_break" || s === "wrap_up");
    $("btn-signout").disabled = s === "reserved" || s === "on_call";

    const shown = panel();
    // The call on screen, for the emulated phone of `ivr serve --emulate` (shared/emulated.js).
    const onScreen = shown === "offer" ? view.offer : shown === "call" ? view.call : null;
    document.body.dataset.call = (onScreen && onScreen.call) || document.body.dataset.call || "";
    for (const name of ["idle", "offer", "call", "wrapup"]) $(`panel-${name}`).hidden = name !== shown;
    $("card").classList.toggle("ringing", shown === "offer");
    ringer(shown === "offer");

    if (shown === "idle") {
      $("idle-title").textContent = {
        offline: "You are offline", available: "Waiting for a call", on_break: "You are on break",
        wrap_up: "Wrap-up", reserved: "Incoming call…", on_call: "On a call",
      }[s] || s;
      $("idle-hint").textContent = {
        offline: "Press Available to take calls.",
        available: "A call will ring here. Accept with A, reject with R.",
        on_break: "Press End break when you are back.",
      }[s] || "";
    } else if (shown === "offer") {
      const o = view.offer;
      $("offer-kind").textContent = `· ${o.line || ""} ${o.callback ? "· CALLBACK" : ""}`;
      showNumber($("offer-caller"), o.caller);
      facts($("offer-facts"), o, [["Waited", clock(o.waited_seconds)], ["Queue", o.queue_class || "—"]]);
    } else if (shown === "call") {
      const c = view.call;
      showNumber($("call-caller"), c.caller);
      facts($("call-facts"), c, [["Waited", c.wait_seconds != null ? clock(c.wait_seconds) : "—"]]);
      $("call-held").hidden = !c.held;
      showSupervisor(c.supervisor);
      $("btn-hold").hidden = !!c.held;
      $("btn-resume").hidden = !c.held;
    } else if (shown === "wrapup") {
      $("wrap-caller").textContent = `· ${spoken(view.call.caller)}`;
    }
    const wrapChoice = document.querySelector('input[name="disposition"]:checked');
    $("btn-wrapup").disabled = !wrapChoice;

    renderNotes(shown === "offer" ? null : view.call);
    renderHistory(shown === "offer" ? view.offer : view.call);
    tick();
  }

  // A supervisor on my call, and how they are heard: a call-taker always knows.
  const SUPERVISOR = {
    listen: (who) => `${who} (supervisor) is listening`,
    coach: (who) => `${who} (supervisor) is coaching you: only you hear them`,
    barge: (who) => `${who} (supervisor) joined the call: the caller hears them too`,
  };

  function showSupervisor(sup) {
    const banner = $("call-supervisor");
    banner.hidden = !sup;
    if (!sup) return;
    const who = sup.name || sup.login;
    banner.dataset.mode = sup.mode;
    banner.textContent = sup.status === "joined" ? SUPERVISOR[sup.mode](who) : `${who} (supervisor) is joining…`;
  }

  function renderNotes(call) {
    const list = $("notes");
    const notes = (call && call.notes) || [];
    list.replaceChildren(...notes.map((note) => {
      const li = document.createElement("li");
      const by = document.createElement("span");
      by.className = "by";
      by.textContent = ` — ${note.by || ""} ${new Date(note.at).toLocaleTimeString()}`;
      li.append(document.createTextNode(note.text), by);
      return li;
    }));
    list.scrollTop = list.scrollHeight;
    $("notes-call").textContent = call ? `· ${spoken(call.caller)}` : "";
    $("note-text").disabled = !call;
    $("btn-note").disabled = !call;
  }

  function renderHistory(call) {
    const body = $("history").querySelector("tbody");
    const calls = (call && call.earlier_calls) || [];
    body.replaceChildren(...calls.map((c) => {
      const tr = document.createElement("tr");
      const when = new Date(c.started_at);
      const cells = [
        `${when.toLocaleDateString()} ${when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`,
        c.line, c.outcome, [c.disposition, ...(c.notes || [])].filter(Boolean).join(" · ") || "—",
      ];
      for (const text of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));
    $("history-empty").textContent = !call ? "No caller yet." : calls.length ? "" : "No earlier calls from this number.";
  }

  // Once a second: the clocks on screen (no request is made).
  function tick() {
    const p = view.presence;
    $("state-timer").textContent = p && p.state !== "offline" ? clock(since(p.since)) : "";
    if (panel() === "offer" && view.offer) {
      const o = view.offer;
      const elapsed = (performance.now() - view.offerSeenAt) / 1000;
      const left = Math.max(0, o.seconds_left - elapsed);
      const total = Math.max(1, o.expires_at - o.offered_at);
      $("offer-countdown").textContent = String(Math.ceil(left));
      $("offer-bar").style.width = `${(100 * left) / total}%`;
      const waited = $("offer-facts-waited");
      if (waited) waited.textContent = clock(o.waited_seconds + elapsed);
    }
    if (panel() === "call" && p) $("call-timer").textContent = clock(since(p.since));
    if (panel() === "wrapup" && p && p.state === "wrap_up") {
      $("wrap-timer").textContent = p.wrap_up_until ? `${clock(p.wrap_up_until - serverNow())} left` : "";
    } else {
      $("wrap-timer").textContent = "";
    }
  }

  // -- ringing --------------------------------------------------------------------------------

  let ringTimer = null;
  let audio = null;

  function ringer(on) {
    if (on && !ringTimer) {
      beep();
      ringTimer = setInterval(beep, 2000);
    } else if (!on && ringTimer) {
      clearInterval(ringTimer);
      ringTimer = null;
    }
  }

  function beep() {
    if (!$("sound").checked) return;
    try {
      audio = audio || new AudioContext();
      for (const [at, freq] of [[0, 880], [0.25, 660]]) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.frequency.value = freq;
        gain.gain.value = 0.15;
        osc.connect(gain).connect(audio.destination);
        osc.start(audio.currentTime + at);
        osc.stop(audio.currentTime + at + 0.2);
      }
    } catch (_) { /* no audio device: the screen still rings */ }
  }

  // -- actions --------------------------------------------------------------------------------

  const accept = () => view.offer && act("POST", `/offers/${encodeURIComponent(view.offer.reservation)}/accept`, {}, () => setOffer(null));
  const reject = () => view.offer && act("POST", `/offers/${encodeURIComponent(view.offer.reservation)}/reject`, {}, () => setOffer(null));
  const hold = () => view.call && act("POST", view.call.held ? "/call/resume" : "/call/hold");

  function addNote() {
    const text = $("note-text").value.trim();
    if (!text) return;
    act("POST", "/call/notes", { text }, () => { $("note-text").value = ""; });
  }

  function finishWrapUp() {
    const choice = document.querySelector('input[name="disposition"]:checked');
    if (!choice) { say("Choose how the call ended."); return; }
    act("POST", "/call/wrap-up", { disposition: choice.value }, () => {
      choice.checked = false;
      say("Wrap-up done.", true);
    });
  }

  function setupChoices(me) {
    view.dispositions = me.dispositions;
    const reasons = $("break-reason");
    reasons.replaceChildren(...me.break_reasons.map((reason) => new Option(reason, reason)));
    $("dispositions").replaceChildren(...me.dispositions.map((d, i) => {
      const label = document.createElement("label");
      label.className = "disposition";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "disposition";
      input.value = d.code;
      input.addEventListener("change", render);
      const key = document.createElement("kbd");
      key.textContent = String(i + 1);
      label.append(input, document.createTextNode(d.label), key);
      return label;
    }));
  }

  function wire() {
    $("btn-available").addEventListener("click", () => act("POST", "/presence/available"));
    $("btn-break").addEventListener("click", () => act("POST", "/presence/break", { reason: $("break-reason").value }));
    $("btn-end-break").addEventListener("click", () => act("POST", "/presence/end-break"));
    $("btn-queue-logout").addEventListener("click", () => act("POST", "/presence/logout"));
    $("btn-accept").addEventListener("click", accept);
    $("btn-reject").addEventListener("click", reject);
    $("btn-hold").addEventListener("click", hold);
    $("btn-resume").addEventListener("click", hold);
    $("btn-end").addEventListener("click", () => act("POST", "/call/end"));
    $("btn-note").addEventListener("click", addNote);
    $("btn-wrapup").addEventListener("click", finishWrapUp);
    $("note-text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); addNote(); }
    });
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
      if (e.target.closest("input[type=text], input:not([type]), textarea, select")) return;
      const shown = panel();
      const key = e.key.toLowerCase();
      if (shown === "offer" && key === "a") { e.preventDefault(); accept(); }
      else if (shown === "offer" && key === "r") { e.preventDefault(); reject(); }
      else if (shown === "call" && key === "h") { e.preventDefault(); hold(); }
      else if (shown === "wrapup" && /^[1-9]$/.test(key)) {
        const input = document.querySelectorAll('input[name="disposition"]')[Number(key) - 1];
        if (input) { input.checked = true; render(); }
      }
    });
  }

  // -- the browser phone ----------------------------------------------------------------------

  async function phone() {
    const pill = $("phone-status");
    let token;
    try {
      token = await api("GET", "/voice/token");
    } catch (error) {
      const fine = { desk_phone: "Phone: desk phone", emulated_phone: "Phone: emulated" }[error.code];
      pill.textContent = fine || "Browser phone unavailable";
      pill.title = error.message;
      pill.className = `pill ${fine ? "pill-ok" : "pill-bad"}`;
      return;
    }
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/static/vendor/twilio.min.js";
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    }).catch(() => null);
    if (!window.Twilio || !window.Twilio.Device) {
      pill.textContent = "Browser phone unavailable";
      pill.className = "pill pill-bad";
      return;
    }
    const device = new window.Twilio.Device(token.token, { closeProtection: true });
    device.on("registered", () => { pill.textContent = "Browser phone ready"; pill.className = "pill pill-ok"; });
    device.on("error", (error) => { pill.textContent = "Browser phone error"; pill.title = error.message; pill.className = "pill pill-bad"; });
    device.on("tokenWillExpire", async () => {
      try { device.updateToken((await api("GET", "/voice/token")).token); } catch (_) { /* shown on error */ }
    });
    // The server dials this browser into the caller's conference once the offer is accepted.
    device.on("incoming", (call) => {
      if (state() === "on_call" || state() === "reserved") call.accept();
      else call.reject();
    });
    device.register();
  }

  document.addEventListener("DOMContentLoaded", async () => {
    wire();
    await refresh();
    listen();
    setInterval(tick, 1000);
    phone();
  });
})();
