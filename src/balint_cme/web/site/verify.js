// The static verify page: reads the code from the URL (#CODE, ?code=CODE or .../v/CODE), finds
// the answer file named by a hash of the code, decrypts it with a key derived from the code
// (AES-256-GCM, SubtleCrypto) and shows the same answer as the balint-cme web app.
"use strict";
(function () {
  const FORMAT = "balint-cme-site/1";
  const enc = new TextEncoder();
  const $ = (id) => document.getElementById(id);

  function canonicalCode(text) {
    // As balint_cme.certificates.verification.normalize_code: case, spaces and dashes do not
    // matter, and 0/1/8 are read as O/I/B in the code part.
    text = String(text || "").trim().slice(0, 200);
    const dot = text.lastIndexOf(".");
    if (dot < 1) return null;
    const keyId = text.slice(0, dot).trim().toLowerCase();
    let mac = text.slice(dot + 1).replace(/[\s-]/g, "").toUpperCase();
    mac = mac.replace(/0/g, "O").replace(/1/g, "I").replace(/8/g, "B");
    if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(keyId) || !/^[A-Z2-7]{24}$/.test(mac)) return null;
    return keyId + "." + mac.match(/.{4}/g).join("-");
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const derive = (label, secret) => sha256(enc.encode(FORMAT + " " + label + "\n" + secret));
  const unbase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

  async function fetchAnswer(folder, nameLabel, keyLabel, secret) {
    const name = hex(await derive(nameLabel, secret)).slice(0, 32);
    const response = await fetch(folder + "/" + name + ".json", { cache: "no-cache", credentials: "omit" });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error("the answer could not be fetched (HTTP " + response.status + ")");
    const record = await response.json();
    if (record.format !== FORMAT) throw new Error("this site was published by another version");
    const key = await crypto.subtle.importKey("raw", await derive(keyLabel, secret), "AES-GCM", false, ["decrypt"]);
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: unbase64(record.nonce), additionalData: enc.encode(FORMAT) },
      key,
      unbase64(record.data)
    );
    return JSON.parse(new TextDecoder().decode(plain));
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function claimsList(c) {
    const dl = el("dl", undefined, "claims");
    const add = (term, value) => { dl.append(el("dt", term)); const dd = el("dd"); dd.append(...value); dl.append(dd); };
    const joint = c.joint_providers.length ? " (jointly with " + c.joint_providers.join(", ") + ")" : "";
    add("Name", [c.name + (c.credentials ? ", " + c.credentials : "")]);
    add("Activity", [c.activity]);
    add("Provider", [c.provider + joint]);
    add("Dates attended", [c.session_dates_text]);
    if (c.kind === "credit") {
      add("Credit awarded", [c.credits + " ", el("em", c.award.slice(c.credits.length + 1))]);
    } else {
      add("Participation", [c.award + " (no ", el("em", "AMA PRA Category 1 Credit™"), " awarded; designated for a maximum of ", el("em", c.designated_maximum), ")"]);
    }
    add("Certificate number", [c.number + (c.version > 1 ? " (version " + c.version + ")" : "")]);
    add("Date of issue", [c.issued_on_text]);
    return dl;
  }

  function show(answer, fileNote) {
    const section = $("result");
    const status = answer ? answer.status : "unknown";
    section.className = "result result-" + status;
    section.dataset.status = status;
    const heading = $("result-heading");
    const verdict = $("verdict");
    const claims = $("claims");
    claims.replaceChildren();
    const mark = { valid: "✓", superseded: "!", revoked: "✗", unknown: "?" }[status];
    let title = { valid: "Valid", superseded: "Superseded", revoked: "Revoked", unknown: "Unknown" }[status];
    if (status === "superseded" && answer.superseded.current_version) title += " by version " + answer.superseded.current_version;
    const markNode = el("span", mark, "mark");
    markNode.setAttribute("aria-hidden", "true");
    heading.replaceChildren(markNode, " " + title);
    if (status === "valid") {
      verdict.textContent = "This certificate was issued by " + answer.certificate.provider + " and is valid.";
    } else if (status === "superseded") {
      const why = answer.superseded.reason ? " (" + answer.superseded.reason + ")" : "";
      verdict.textContent = "This certificate was replaced by a corrected version" + why + ". The paper or file you hold is no longer current.";
    } else if (status === "revoked") {
      const on = answer.revoked.on ? " on " + answer.revoked.on : "";
      const why = answer.revoked.reason ? ": " + answer.revoked.reason : "";
      verdict.textContent = "This certificate was revoked" + on + why + ". It is not valid.";
    } else {
      verdict.textContent = fileNote
        ? "This file is not a certificate issued by this provider (or not one published here)."
        : "No certificate has this verification code. Check the code as printed on the certificate (letters and digits; dashes and case do not matter).";
    }
    const fileCheck = $("file-check");
    fileCheck.hidden = !(fileNote && answer);
    if (fileNote && answer) fileCheck.textContent = fileNote;
    if (answer) {
      claims.append(el("h3", status === "superseded" ? "What the certificate you hold states" : "What the certificate states"));
      claims.append(claimsList(answer.certificate));
      if (status === "superseded" && answer.superseded.current) {
        claims.append(el("h3", "The current version (" + answer.superseded.current.version + ") states"));
        claims.append(claimsList(answer.superseded.current));
      }
      claims.append(el("p", "Compare these with the certificate in front of you: any difference means that copy was altered.", "small"));
    }
    section.hidden = false;
    document.title = title + " – Certificate verification";
  }

  function fail(message) {
    const section = $("result");
    section.className = "result result-unknown";
    section.dataset.status = "error";
    $("result-heading").textContent = "Could not check";
    $("verdict").textContent = message;
    $("claims").replaceChildren();
    section.hidden = false;
  }

  async function checkCode(text) {
    const code = canonicalCode(text);
    if (!code) return show(null);
    show(await fetchAnswer("c", "name", "key", code));
  }

  async function checkFile(file) {
    if (file.size > 20 * 1024 * 1024) return fail("The file is larger than any certificate (20 MB).");
    const digest = hex(await sha256(await file.arrayBuffer()));
    const answer = await fetchAnswer("p", "pdf-name", "pdf-key", digest);
    show(answer, "This file is byte for byte the one issued (SHA-256 " + digest.slice(0, 16) + "…).");
  }

  function codeFromLocation() {
    const hash = decodeURIComponent(location.hash.replace(/^#/, ""));
    if (hash) return hash;
    const query = new URLSearchParams(location.search).get("code");
    if (query) return query;
    const match = location.pathname.match(/\/v\/([^/]+)$/i);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function run(task) {
    if (!window.crypto || !crypto.subtle) return fail("This page needs a secure (https) connection to check certificates.");
    task().catch((error) => fail("The check failed: " + error.message));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const code = codeFromLocation();
    const input = $("code");
    if (code) { input.value = code; run(() => checkCode(code)); }
    $("code-form").addEventListener("submit", (event) => {
      event.preventDefault();
      history.replaceState(null, "", "#" + encodeURIComponent(input.value.trim()));
      run(() => checkCode(input.value));
    });
    $("pdf").addEventListener("change", (event) => {
      const file = event.target.files[0];
      if (file) run(() => checkFile(file));
    });
    const drop = $("drop");
    drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("over");
      const file = event.dataTransfer.files[0];
      if (file) run(() => checkFile(file));
    });
    window.addEventListener("hashchange", () => { const c = codeFromLocation(); if (c) { input.value = c; run(() => checkCode(c)); } });
  });
})();
