"""The atlas: the `Atlas` type (`model`), building one (`build`) and its folder on disk
(`store`, written atomically through `folders`, checked on load)."""
