// RadixServe: RouterServiceTests (module overview; see README "Modules").
