// RadixServe: RouterService (module overview; see README "Modules").
