// The dispatch inbox: incoming transfers with their incident data, refreshed every two
// seconds from the JSON API, acknowledged with one click. Built with DOM nodes only (no HTML
// from data), so nothing a caller said can become markup.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const STATES = {
    dialing: "Ringing you", briefing: "Call-taker briefing", completed: "Caller with you",
    connected: "Caller with you", cancelled: "Cancelled", failed: "Failed",
    abandoned: "Caller hung up",
  };

  const api = window.ivr.api.request;  // ivr/static/shared/api.js

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function fact(list, label, value) {
    if (!value) return;
    list.append(el("dt", null, label), el("dd", null, value));
  }

  function item(t) {
    const s = t.incident_summary || {};
    const li = el("li", "transfer");
    li.dataset.id = t.id;
    li.dataset.call = t.call_sid;
    li.dataset.state = t.state;
    li.dataset.acknowledged = t.acknowledged_at ? "yes" : "no";
    const head = el("div", "transfer-head");
    head.append(el("span", "transfer-mode", t.origin === "menu" ? "FROM MENU" : t.mode.toUpperCase()),
                el("span", "transfer-center", t.center_label),
                el("span", "transfer-state", STATES[t.state] || t.state),
                el("time", "transfer-time", window.ivr.time.time(t.started_at)));
    const facts = el("dl", "facts");
    fact(facts, "Callback", s.callback);
    fact(facts, "Location", s.location);
    fact(facts, "Type", s.type);
    fact(facts, "Call-taker", t.agent);
    fact(facts, "Notes", (s.notes || []).join(" · "));
    fact(facts, "Incident", s.incident);
    li.append(head, facts);
    if (t.acknowledged_at) {
      li.append(el("p", "acked", `Acknowledged by ${t.acknowledged_by}`));
    } else {
      const button = el("button", "btn btn-go btn-ack", "Acknowledge");
      button.type = "button";
      button.addEventListener("click", async () => {
        try {
          await api("POST", `/dispatch/transfers/${encodeURIComponent(t.id)}/acknowledge`);
          refresh();
        } catch (error) {
          $("message").textContent = error.message;
        }
      });
      li.append(button);
    }
    return li;
  }

  let shown = "";

  async function refresh() {
    try {
      const data = await api("GET", "/dispatch/transfers");
      const seen = JSON.stringify(data.transfers);
      if (seen !== shown) {  // rebuilt only on a change: a button under the pointer stays put
        shown = seen;
        $("transfers").replaceChildren(...data.transfers.map(item));
      }
      $("inbox-empty").hidden = data.transfers.length > 0;
      $("inbox-status").textContent = "Live";
      $("inbox-status").className = "pill pill-ok";
    } catch (error) {
      $("inbox-status").textContent = "Reconnecting…";
      $("inbox-status").className = "pill pill-bad";
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    refresh();
    window.setInterval(refresh, 2000);
  });
})();
