// The diary page: a parent's acknowledgement (R-MON-3) and notice of a planned absence
// (R-ABS-3). Writes go to the JSON API with the session cookie, the CSRF header and an
// Idempotency-Key (the same key while the same request is retried).

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

async function problemText(response) {
  try {
    const body = await response.json();
    if (body && body.detail) {
      if (typeof body.detail === "string") return body.detail;
      if (Array.isArray(body.detail)) return body.detail.map((d) => d.msg || String(d)).join("; ");
    }
  } catch (e) {
    /* not JSON */
  }
  return `Ошибка сервера (${response.status})`;
}

async function call(url, body, key) {
  const headers = { "X-CSRF-Token": csrf, "Idempotency-Key": key };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return { ok: false, detail: "Нет связи с сервером; ничего не сохранено, попробуйте ещё раз" };
  }
  if (response.status === 401) {
    return { ok: false, detail: "Сеанс завершён; войдите снова" };
  }
  if (!response.ok) return { ok: false, detail: await problemText(response) };
  return { ok: true, data: await response.json().catch(() => null) };
}

// One key per distinct request: a retry of the same request is not recorded twice.
const keys = new Map();
function keyFor(kind, request) {
  const text = JSON.stringify(request);
  const known = keys.get(kind);
  if (known && known.text === text) return known.key;
  const key = crypto.randomUUID();
  keys.set(kind, { text, key });
  return key;
}

function say(status, alert, text, isError) {
  if (isError) {
    status.textContent = "";
    alert.textContent = text;
  } else {
    alert.textContent = "";
    status.textContent = text;
  }
}

// Bring parts of the page up to date with the server without losing what was typed.
async function refresh(ids) {
  try {
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const id of ids) {
      const fresh = doc.getElementById(id);
      const old = document.getElementById(id);
      if (fresh && old) old.replaceWith(document.importNode(fresh, true));
    }
  } catch (e) {
    /* the confirmation stays; a reload shows the rest */
  }
}

const ack = document.getElementById("diary-ack");
if (ack) {
  const status = document.getElementById("diary-ack-status");
  const alert = document.getElementById("diary-ack-alert");
  ack.addEventListener("click", async () => {
    const student = ack.dataset.student;
    ack.disabled = true;
    const result = await call(
      `/api/v1/students/${encodeURIComponent(student)}/diary-acknowledgements`,
      undefined,
      keyFor("ack", { student }),
    );
    ack.disabled = false;
    if (!result.ok) {
      say(status, alert, result.detail, true);
      return;
    }
    keys.delete("ack");
    await refresh(["diary-ack-last"]);
    // The time as the school's clock shows it (the server's time zone, not the browser's).
    const when = document.getElementById("diary-ack-last")?.dataset.at || "";
    say(status, alert, `Ознакомление записано${when ? `: ${when}` : ""}`, false);
  });
}

const notice = document.getElementById("diary-notice");
if (notice) {
  const status = document.getElementById("diary-notice-status");
  const alert = document.getElementById("diary-notice-alert");
  const button = notice.querySelector('button[type="submit"]');
  notice.addEventListener("submit", async (event) => {
    event.preventDefault();
    const request = {
      student_id: notice.dataset.student,
      from_date: notice.elements.from_date.value,
      to_date: notice.elements.to_date.value,
      reason: notice.elements.reason.value.trim(),
    };
    if (!request.from_date || !request.to_date) {
      say(status, alert, "Укажите даты «С» и «По»", true);
      return;
    }
    if (!request.reason) {
      say(status, alert, "Укажите причину отсутствия", true);
      notice.elements.reason.focus();
      return;
    }
    button.disabled = true;
    const result = await call("/api/v1/absence-notices", request, keyFor("notice", request));
    button.disabled = false;
    if (!result.ok) {
      say(status, alert, result.detail, true);
      return;
    }
    const fmt = (s) => s.split("-").reverse().join(".");
    const span = request.from_date === request.to_date
      ? fmt(request.from_date)
      : `${fmt(request.from_date)}–${fmt(request.to_date)}`;
    say(status, alert, `Уведомление об отсутствии отправлено: ${span}`, false);
    notice.elements.reason.value = "";
    keys.delete("notice");
    await refresh(["diary-absences"]);
  });
}
