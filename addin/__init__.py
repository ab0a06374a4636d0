"""The Excel task pane, shipped as package data of chronos_excel (served at /addin/)."""
