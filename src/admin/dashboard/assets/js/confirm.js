// @ts-check
// The confirmation dialog: a native modal <dialog> (focus moves into it, Escape cancels,
// focus returns to the button that opened it).
import { byId } from './dom.js';

/**
 * Resolves true when the operator presses the confirm button, false on Cancel or Escape.
 * @param {{ title: string, text: string, confirmLabel: string }} question
 * @returns {Promise<boolean>}
 */
export function confirmAction({ title, text, confirmLabel }) {
  const dialog = byId('confirm', HTMLDialogElement);
  byId('confirm-title', HTMLElement).textContent = title;
  byId('confirm-text', HTMLElement).textContent = text;
  byId('confirm-ok', HTMLButtonElement).textContent = confirmLabel;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        if ((opener instanceof HTMLElement || opener instanceof SVGElement) && opener.isConnected) opener.focus();
        resolve(dialog.returnValue === 'ok');
      },
      { once: true },
    );
    dialog.returnValue = 'cancel';
    dialog.showModal();
    byId('confirm-cancel', HTMLButtonElement).focus();
  });
}
