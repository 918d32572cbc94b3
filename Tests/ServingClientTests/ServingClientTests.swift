// RadixServe: ServingClientTests (module overview; see README "Modules").
