// Lint for the add-in's JavaScript (npm run lint): ESLint's recommended rules. The pane is ES modules;
// commands.js and functions.js are classic scripts (Excel's custom-functions runtime loads no modules).
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["addin/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser, // Office, Excel, CustomFunctions: each file's /* global */ comment
    },
  },
  {
    files: ["addin/commands.js", "addin/functions.js"],
    languageOptions: {
      sourceType: "script",
    },
  },
];
