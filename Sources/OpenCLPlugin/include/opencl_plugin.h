/*
 * The OpenCL RadixServe accelerator plugin ("opencl"), built from Sources/OpenCLPlugin.
 *
 * A plugin exports nothing but its entry point; everything else is reached through the function
 * table it returns (include/radixserve/backend.h). This header exists because SwiftPM wants a
 * public headers directory for a C target, and declares that entry point so the implementation's
 * definition is checked against it.
 */
#ifndef OPENCL_PLUGIN_H
#define OPENCL_PLUGIN_H

#include "radixserve/backend.h"

/* RS_PLUGIN_ENTRY_POINT, of type rs_plugin_entry: the plugin's function table (static storage). */
const rs_plugin_api *radixserve_backend_plugin(void);

#endif /* OPENCL_PLUGIN_H */
