// Role and accessible-name lookup for the end-to-end tests: a small subset of the ARIA rules
// (explicit role, implicit roles of common elements; names from aria-label, aria-labelledby, a
// label, or the text content). Embedded into WebDriver scripts by lib.rs.
function sy_role(el) {
  const r = el.getAttribute('role');
  if (r) return r.split(' ')[0];
  const t = el.tagName.toLowerCase();
  if (t === 'a' && el.hasAttribute('href')) return 'link';
  if (t === 'button') return 'button';
  if (t === 'nav') return 'navigation';
  if (/^h[1-6]$/.test(t)) return 'heading';
  if (t === 'input') {
    const ty = (el.getAttribute('type') || 'text').toLowerCase();
    if (ty === 'checkbox') return 'checkbox';
    if (ty === 'radio') return 'radio';
    if (ty === 'search') return 'searchbox';
    if (ty === 'button' || ty === 'submit') return 'button';
    return 'textbox';
  }
  if (t === 'textarea') return 'textbox';
  if (t === 'select') return 'combobox';
  if (t === 'header') return 'banner';
  if (t === 'footer') return 'contentinfo';
  if (t === 'main') return 'main';
  if (t === 'dialog') return 'dialog';
  if (t === 'table') return 'table';
  if (t === 'tr') return 'row';
  if (t === 'td') return 'cell';
  if (t === 'th') return 'columnheader';
  if (t === 'ul' || t === 'ol') return 'list';
  if (t === 'li') return 'listitem';
  if (t === 'p') return 'paragraph';
  if (t === 'section' && (el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby'))) return 'region';
  if (t === 'progress') return 'progressbar';
  if (t === 'output') return 'status';
  return null;
}
// Text as assistive technology reads it: aria-hidden parts (like a required-field asterisk) left out.
function sy_text(node) {
  if (node.nodeType === Node.TEXT_NODE) return node.textContent;
  if (node.nodeType !== Node.ELEMENT_NODE) return '';
  if (node.getAttribute('aria-hidden') === 'true') return '';
  return Array.from(node.childNodes).map(sy_text).join('');
}
function sy_name(el) {
  const label = el.getAttribute('aria-label');
  if (label) return label.trim();
  const by = el.getAttribute('aria-labelledby');
  if (by) return by.split(/\s+/).map(id => { const n = document.getElementById(id); return n ? sy_text(n) : ''; }).join(' ').replace(/\s+/g, ' ').trim();
  if (el.id) {
    const l = document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
    if (l) return sy_text(l).replace(/\s+/g, ' ').trim();
  }
  if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') return (el.getAttribute('placeholder') || el.getAttribute('title') || '').trim();
  return sy_text(el).replace(/\s+/g, ' ').trim();
}
function sy_visible(el) {
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
}
function sy_all(roles, within) {
  const wanted = roles.split('|');
  const root = within ? document.querySelector(within) : document;
  if (!root) return [];
  return Array.from(root.querySelectorAll('*')).filter(el => wanted.includes(sy_role(el)) && sy_visible(el));
}
