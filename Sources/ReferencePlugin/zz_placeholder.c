typedef int rs_placeholder_unit;
