// The web app's entry module.
