// RadixServe: RouterHTTP (module overview; see README "Modules").
