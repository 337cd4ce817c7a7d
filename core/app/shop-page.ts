/**
 * The playground shop's web page: a canvas of pixels for sale, a palette, and the invoice of the
 * pixel being bought. Plain HTML, CSS and script (no framework), served by core/app/shop.ts under a
 * strict Content-Security-Policy.
 */
export const SHOP_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pixel Shop · Coulomb playground</title>
<link rel="stylesheet" href="/shop.css">
</head>
<body>
<header>
  <h1>Pixel Shop</h1>
  <p>Every pixel costs <strong>{{PRICE}} sat</strong>, paid over Lightning. Pick a colour, click a free pixel, pay the invoice from your wallet, and it is yours for everyone to see.</p>
</header>
<main>
  <section class="board">
    <canvas id="canvas" width="480" height="480" aria-label="The shared canvas; click a pixel to buy it"></canvas>
    <div class="palette" id="palette" role="radiogroup" aria-label="Colour"></div>
  </section>
  <section class="checkout" id="checkout" aria-live="polite">
    <p class="hint" id="hint">Click a pixel to buy it.</p>
  </section>
</main>
<footer>A demo shop on the Coulomb playground: test coins only.</footer>
<script src="/shop.js"></script>
</body>
</html>
`;

export const SHOP_CSS = `
:root { --bg: #f6f5f2; --panel: #fff; --text: #1d1c1a; --muted: #6b6860; --line: #e2dfd8; --accent: #d97a06; }
@media (prefers-color-scheme: dark) { :root { --bg: #141412; --panel: #1e1d1b; --text: #efece6; --muted: #a39f95; --line: #34322e; --accent: #f59e2b; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 15px/1.5 system-ui, sans-serif; }
header, main, footer { max-width: 980px; margin: 0 auto; padding: 20px 24px; }
h1 { margin: 10px 0 4px; font-size: 28px; }
header p, footer, .hint { color: var(--muted); }
main { display: grid; grid-template-columns: auto 1fr; gap: 28px; align-items: start; }
.board { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 16px; }
canvas { display: block; width: 480px; height: 480px; image-rendering: pixelated; cursor: crosshair; border-radius: 6px; background: #fff; }
.palette { display: flex; gap: 8px; margin-top: 14px; flex-wrap: wrap; }
.palette button { width: 30px; height: 30px; border-radius: 50%; border: 2px solid var(--line); cursor: pointer; }
.palette button[aria-checked="true"] { outline: 3px solid var(--accent); outline-offset: 2px; }
.checkout { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 18px 20px; min-height: 200px; }
.checkout img { width: 220px; height: 220px; image-rendering: pixelated; background: #fff; border-radius: 8px; display: block; margin: 10px 0; }
.invoice { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; background: var(--bg); padding: 10px; border-radius: 8px; user-select: all; }
.paid { color: #1a7f4b; font-weight: 600; font-size: 18px; }
a.pay { display: inline-block; margin: 8px 0; background: var(--accent); color: #fff; padding: 8px 16px; border-radius: 9px; text-decoration: none; font-weight: 600; }
button.copy { font: inherit; padding: 6px 12px; border-radius: 8px; border: 1px solid var(--line); background: var(--panel); color: var(--text); cursor: pointer; }
@media (max-width: 800px) { main { grid-template-columns: 1fr; } canvas { width: 100%; height: auto; } }
`;

export const SHOP_JS = `(() => {
  const SIZE = {{SIZE}};
  const COLORS = ['#e63946', '#f4a261', '#e9c46a', '#2a9d8f', '#264653', '#457b9d', '#8338ec', '#111111', '#ffffff'];
  const canvas = document.getElementById('canvas');
  const ctx = canvas.getContext('2d');
  const checkout = document.getElementById('checkout');
  const palette = document.getElementById('palette');
  let color = COLORS[0];
  let pixels = {};
  let watching = null;

  for (const c of COLORS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.style.background = c;
    b.setAttribute('role', 'radio');
    b.setAttribute('aria-label', 'Colour ' + c);
    b.setAttribute('aria-checked', String(c === color));
    b.addEventListener('click', () => {
      color = c;
      for (const o of palette.children) o.setAttribute('aria-checked', String(o === b));
    });
    palette.appendChild(b);
  }

  function draw() {
    const cell = canvas.width / SIZE;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = '#eeeeee';
    for (let i = 0; i <= SIZE; i++) {
      ctx.beginPath(); ctx.moveTo(i * cell, 0); ctx.lineTo(i * cell, canvas.height); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(0, i * cell); ctx.lineTo(canvas.width, i * cell); ctx.stroke();
    }
    for (const [k, c] of Object.entries(pixels)) {
      const [x, y] = k.split(',').map(Number);
      ctx.fillStyle = c;
      ctx.fillRect(x * cell, y * cell, cell, cell);
    }
  }

  async function refresh() {
    try {
      const r = await fetch('/api/canvas');
      const d = await r.json();
      pixels = d.pixels;
      document.body.dataset.pixels = String(Object.keys(pixels).length);
      draw();
    } catch (e) { /* the shop may be restarting */ }
  }

  function show(html) { checkout.innerHTML = ''; checkout.appendChild(html); }
  function el(tag, props, children) {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    for (const c of children || []) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    return e;
  }

  canvas.addEventListener('click', async (ev) => {
    const rect = canvas.getBoundingClientRect();
    const x = Math.floor(((ev.clientX - rect.left) / rect.width) * SIZE);
    const y = Math.floor(((ev.clientY - rect.top) / rect.height) * SIZE);
    if (pixels[x + ',' + y]) {
      show(el('p', { className: 'hint' }, ['That pixel is taken. Pick a free one.']));
      return;
    }
    show(el('p', { className: 'hint' }, ['Asking the shop for an invoice…']));
    const r = await fetch('/api/order', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x, y, color }) });
    const d = await r.json();
    if (!r.ok) { show(el('p', { className: 'hint' }, [d.error || 'The shop could not make an invoice.'])); return; }
    const inv = el('div', { className: 'invoice', id: 'invoice' }, [d.payment_request]);
    const copy = el('button', { className: 'copy', type: 'button' }, ['Copy invoice']);
    copy.addEventListener('click', () => navigator.clipboard && navigator.clipboard.writeText(d.payment_request).then(() => { copy.textContent = 'Copied'; }));
    show(el('div', {}, [
      el('h2', {}, ['Pixel (' + x + ', ' + y + ')']),
      el('p', { className: 'hint' }, ['Pay this invoice from your Coulomb wallet (Send → paste), or scan it.']),
      el('img', { src: d.qr, alt: 'QR code of the invoice' }),
      el('a', { className: 'pay', href: 'lightning:' + d.payment_request }, ['Open in wallet']),
      inv,
      el('p', {}, [copy]),
      el('p', { className: 'hint', id: 'status' }, ['Waiting for payment…']),
    ]));
    watching = d.r_hash;
    const hash = d.r_hash;
    for (let i = 0; i < 600 && watching === hash; i++) {
      await new Promise((res) => setTimeout(res, 1000));
      const s = await (await fetch('/api/order/' + hash)).json();
      if (s.state === 'SETTLED') {
        show(el('p', { className: 'paid', id: 'paid' }, ['Paid ✓ — pixel (' + x + ', ' + y + ') is yours.']));
        await refresh();
        return;
      }
    }
  });

  refresh();
  setInterval(refresh, 3000);
})();
`;
