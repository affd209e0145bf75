"""One module per dashboard section, run by `soundatlas.dashboard.app` through st.navigation."""
