// Transfers in the call-takers' console: warm or cold to a dispatch center, complete, cancel,
// the secondary destination after a failure, and 911 -> 311. It reads the transfer of the
// current call through the JSON API while a call is shown; the server decides what is
// possible (`options`), this script only shows it.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const STATES = {
    dialing: "Calling the dispatch center… the caller is on hold",
    briefing: "Dispatcher on the line: brief them, then complete",
    completed: "Transferred: the caller is with the dispatcher",
    cancelled: "Transfer cancelled: the caller is back with you",
    failed: "Transfer failed: the caller is back with you",
    abandoned: "The caller hung up during the transfer",
    connected: "Transferred",
    requeued: "Sent to the 311 queue",
  };

  const api = window.ivr.api.request;  // ivr/static/shared/api.js

  function message(text) {
    const box = $("message");
    if (box) box.textContent = text;
  }

  function show(transfer) {
    const status = $("transfer-status");
    const options = (transfer && transfer.options) || {};
    if (!transfer) {
      status.hidden = true;
    } else {
      status.hidden = false;
      status.dataset.state = transfer.state;
      const why = transfer.reason && transfer.state === "failed" ? ` (${transfer.reason})` : "";
      status.textContent = `${transfer.center_label}: ${STATES[transfer.state] || transfer.state}${why}`;
    }
    $("btn-transfer-complete").hidden = !options.complete;
    $("btn-transfer-cancel").hidden = !options.cancel;
    $("btn-transfer-secondary").hidden = !options.secondary;
    $("btn-transfer-cold-retry").hidden = !options.cold;
    const busy = Boolean(transfer && (transfer.state === "dialing" || transfer.state === "briefing"));
    for (const id of ["btn-transfer-warm", "btn-transfer-cold", "btn-reclassify"]) $(id).disabled = busy;
  }

  async function poll() {
    const panel = $("panel-call");
    if (!panel || panel.hidden) { show(null); return; }
    try {
      const data = await api("GET", "/call/transfer");
      show(data.transfer);
    } catch (_) {
      show(null);
    }
  }

  async function act(path, body) {
    try {
      const data = await api("POST", path, body);
      show(data.transfer);
      message("");
    } catch (error) {
      message(error.message);
    }
  }

  function start(mode) {
    act("/call/transfer", {
      center: $("transfer-center").value, mode, location: $("transfer-location").value,
    });
  }

  async function centers() {
    try {
      const data = await api("GET", "/dispatch-centers");
      const select = $("transfer-center");
      select.replaceChildren(...data.centers.map((c) => {
        const option = document.createElement("option");
        option.value = c.name;
        option.textContent = c.label;
        return option;
      }));
      $("transfer-box").hidden = data.centers.length === 0;
    } catch (_) {
      $("transfer-box").hidden = true;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("btn-transfer-warm").addEventListener("click", () => start("warm"));
    $("btn-transfer-cold").addEventListener("click", () => start("cold"));
    $("btn-transfer-cold-retry").addEventListener("click", () => start("cold"));
    $("btn-transfer-complete").addEventListener("click", () => act("/call/transfer/complete"));
    $("btn-transfer-cancel").addEventListener("click", () => act("/call/transfer/cancel"));
    $("btn-transfer-secondary").addEventListener("click", () => act("/call/transfer/secondary"));
    $("btn-reclassify").addEventListener("click", () => act("/call/reclassify"));
    centers();
    poll();
    window.setInterval(poll, 1500);
  });
})();
