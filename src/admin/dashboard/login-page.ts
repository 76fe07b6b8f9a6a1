/**
 * The token form shown instead of the dashboard while no valid session cookie is present.
 * It carries no event or delivery data. Its script (`/assets/js/sign-in.js`) posts the token
 * as JSON to /login (the admin listener takes state-changing requests as JSON only) and shows
 * a wrong token in the alert below.
 */
export function loginPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · hookrelay</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/style.css">
<script type="module" src="/assets/js/sign-in.js"></script>
</head>
<body class="login">
<main id="main" class="login-box">
  <h1>hookrelay dashboard</h1>
  <p>This relay requires its admin token (<code>admin.token</code>) to show events and deliveries.</p>
  <p id="login-error" class="error" role="alert" hidden></p>
  <form id="login" method="post" action="/login">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <button type="submit" class="primary">Sign in</button>
  </form>
</main>
</body>
</html>
`;
}
