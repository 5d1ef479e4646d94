// Passkeys in the browser. WebAuthn is a JavaScript API whatever the page is built
// with, so this small module (not the WASM bundle) runs the browser's half of each
// ceremony: it asks the JSON API for the options, hands them to the device
// (navigator.credentials), and sends the device's answer back.
//
// Buttons opt in with data-passkey="register" | "sign-in" | "second-factor" |
// "reauthenticate"; messages go to the nearest [data-passkey-error]. The buttons are
// hidden by the stylesheet until this module marks the page as able to use passkeys.

const flows = {
  register: {
    start: '/api/me/passkeys/register/start',
    finish: '/api/me/passkeys/register/finish',
    create: true,
    done: () => location.assign('/account/security'),
  },
  'sign-in': {
    start: '/api/login/passkey/start',
    finish: '/api/login/passkey/finish',
    done: () => location.assign('/account'),
  },
  'second-factor': {
    start: '/api/login/second-factor/passkey/start',
    finish: '/api/login/second-factor/passkey/finish',
    done: () => location.assign('/account'),
  },
  reauthenticate: {
    start: '/api/me/reauthenticate/passkey/start',
    finish: '/api/me/reauthenticate/passkey/finish',
    // Carry on with the change that asked for the proof (its form names it), or
    // show the page again.
    done: () => {
      const then = document.querySelector('input[name="then"]')?.value;
      const form = then && document.querySelector(`form[data-then="${then}"]`);
      if (form) form.requestSubmit();
      else location.reload();
    },
  },
};

function fromBase64url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
}

function toBase64url(buffer) {
  let binary = '';
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// Browsers that predate parse…OptionsFromJSON and toJSON get the same conversion by hand.
function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: (json.excludeCredentials ?? []).map((c) => ({ ...c, id: fromBase64url(c.id) })),
  };
}

function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    allowCredentials: (json.allowCredentials ?? []).map((c) => ({ ...c, id: fromBase64url(c.id) })),
  };
}

function answerJson(credential) {
  if (typeof credential.toJSON === 'function') return credential.toJSON();
  const r = credential.response;
  const response = r.attestationObject
    ? { attestationObject: toBase64url(r.attestationObject), clientDataJSON: toBase64url(r.clientDataJSON) }
    : {
        authenticatorData: toBase64url(r.authenticatorData),
        clientDataJSON: toBase64url(r.clientDataJSON),
        signature: toBase64url(r.signature),
        userHandle: r.userHandle ? toBase64url(r.userHandle) : null,
      };
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const envelope = await response.json().catch(() => null);
  if (!response.ok || !envelope?.success) {
    throw new Error(envelope?.error?.message ?? 'Roster cannot be reached just now. Please try again.');
  }
  return envelope.data;
}

function say(button, message) {
  const place = button.closest('form, section, div')?.querySelector('[data-passkey-error]');
  if (!place) return;
  place.textContent = message;
  place.hidden = !message;
}

async function run(button) {
  const flow = flows[button.dataset.passkey];
  if (!flow) return;
  say(button, '');
  button.disabled = true;
  try {
    const started = await post(flow.start, {});
    const credential = flow.create
      ? await navigator.credentials.create({ publicKey: creationOptions(started.options) })
      : await navigator.credentials.get({ publicKey: requestOptions(started.options) });
    const body = { challenge_id: started.challenge_id, credential: answerJson(credential) };
    const nameField = button.dataset.passkeyName && document.querySelector(button.dataset.passkeyName);
    if (nameField?.value.trim()) body.name = nameField.value.trim();
    const remember = button.dataset.passkeyRemember && document.querySelector(button.dataset.passkeyRemember);
    if (remember?.checked) body.remember = true;
    await post(flow.finish, body);
    flow.done();
  } catch (error) {
    const message =
      error?.name === 'NotAllowedError' || error?.name === 'AbortError'
        ? 'The passkey request was cancelled or timed out. Try again.'
        : error?.name === 'InvalidStateError'
          ? 'This device already holds a passkey for your account.'
          : (error?.message ?? String(error));
    say(button, message);
  } finally {
    button.disabled = false;
  }
}

if (window.PublicKeyCredential && navigator.credentials) {
  document.documentElement.classList.add('passkeys-ready');
  document.addEventListener('click', (event) => {
    const button = event.target.closest?.('button[data-passkey]');
    if (!button) return;
    event.preventDefault();
    run(button);
  });
}
