/**
 * The token form shown instead of the dashboard while no valid session cookie is present.
 * It carries no event or delivery data. It posts to /login; works without JavaScript.
 */
export function loginPage({ wrongToken }: { wrongToken: boolean }): string {
  const error = wrongToken
    ? '<p id="login-error" class="error" role="alert">That token is not the admin token. Try again.</p>'
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · hookrelay</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/style.css">
</head>
<body class="login">
<main id="main" class="login-box">
  <h1>hookrelay dashboard</h1>
  <p>This relay requires its admin token (<code>admin.token</code>) to show events and deliveries.</p>
  ${error}
  <form method="post" action="/login">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus${wrongToken ? ' aria-invalid="true" aria-describedby="login-error"' : ''}>
    <button type="submit" class="primary">Sign in</button>
  </form>
</main>
</body>
</html>
`;
}
