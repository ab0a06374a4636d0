// The function file behind the ribbon button. The button only opens the task pane, but Office still
// loads this page and waits for Office.onReady. A file, not an inline script: the pane's
// Content-Security-Policy allows scripts from 'self' and Office's CDN only.
/* global Office */
Office.onReady(() => {});
