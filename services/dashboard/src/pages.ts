// The two HTML documents the server renders; everything else is built in the browser by
// /static/app.js with textContent (never innerHTML), so user data cannot become markup.
import { RESOURCE_STATES } from '@jetcel/core';
import { ADMIN_ROLE } from '@jetcel/identity';
import { RESOURCE_TYPES } from './api-routes.ts';
import { escapeHtml } from './http-io.ts';

export function loginPage(options: { error?: string; username?: string } = {}): string {
  const error = options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jetcel dashboard — sign in</title>
<link rel="stylesheet" href="/static/login.css">
</head>
<body>
<main class="login">
<h1>jetcel</h1>
<form method="post" action="/login">
${error}
<label>User name <input name="username" autocomplete="username" required value="${escapeHtml(options.username ?? '')}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`;
}

/** [id, label, admin only]: the executor answers the operator pages to admins alone. */
const TABS = [
  ['executions', 'Executions', false],
  ['resources', 'Resources', false],
  ['queues', 'Queues', true],
  ['leases', 'Leases', true],
  ['schedules', 'Schedules', true],
  ['dead-letters', 'Dead letters', true],
  ['create', 'Create instance', false],
] as const;

export function appPage(options: { username: string; roles: readonly string[]; csrfToken: string }): string {
  const admin = options.roles.includes(ADMIN_ROLE);
  const tabs = TABS.filter(([, , adminOnly]) => admin || !adminOnly)
    .map(([id, label]) => `<a href="#${id}" data-tab="${id}">${label}</a>`)
    .join('\n');
  const roles = options.roles.length ? ` (${escapeHtml(options.roles.join(', '))})` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${escapeHtml(options.csrfToken)}">
<title>jetcel dashboard</title>
<link rel="stylesheet" href="/static/app.css">
<script type="module" src="/static/app.js"></script>
</head>
<body>
<header>
<strong>jetcel</strong>
<nav>
${tabs}
</nav>
<span id="live" class="live" data-live="connecting">connecting…</span>
<span class="user">signed in as <span id="username">${escapeHtml(options.username)}</span>${roles}</span>
<form method="post" action="/logout" class="logout">
<input type="hidden" name="_csrf" value="${escapeHtml(options.csrfToken)}">
<button type="submit">Sign out</button>
</form>
</header>
<p id="flash" role="status" hidden></p>
<main id="view" data-resource-types="${RESOURCE_TYPES.join(',')}" data-resource-states="${RESOURCE_STATES.join(',')}"></main>
</body>
</html>
`;
}
