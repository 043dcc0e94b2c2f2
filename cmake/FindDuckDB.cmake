# FindDuckDB: the DuckDB 1.4 C++ API (duckdb.hpp + libduckdb.so) as the imported target tarn::duckdb.
#
# Looked up, first hit wins:
#   1. -DTARN_DUCKDB_ROOT=<dir>: a directory holding the headers (<dir>/include or <dir>) and the
#      library (<dir>/lib or <dir>);
#   2. the pinned npm packages that scripts/bootstrap.sh installs under .tools/node_modules
#      (@duckdb/node-bindings-linux-x64 ships libduckdb.so, duckdb ships src/duckdb/src/include);
#   3. a system install (find_path(duckdb.hpp), find_library(duckdb)).
# The include directory is SYSTEM (DuckDB's headers do not build warning-free under our -Werror) and
# consumers get an RPATH to the library's directory, so binaries run without LD_LIBRARY_PATH.
include(FindPackageHandleStandardArgs)

set(TARN_DUCKDB_ROOT "" CACHE PATH "Directory of a DuckDB install (headers and libduckdb)")
set(_tarn_npm "${PROJECT_SOURCE_DIR}/.tools/node_modules")

if(TARN_DUCKDB_ROOT)
  find_path(DuckDB_INCLUDE_DIR duckdb.hpp PATHS "${TARN_DUCKDB_ROOT}/include" "${TARN_DUCKDB_ROOT}"
            NO_DEFAULT_PATH)
  find_library(DuckDB_LIBRARY duckdb PATHS "${TARN_DUCKDB_ROOT}/lib" "${TARN_DUCKDB_ROOT}"
               NO_DEFAULT_PATH)
else()
  find_path(DuckDB_INCLUDE_DIR duckdb.hpp PATHS "${_tarn_npm}/duckdb/src/duckdb/src/include"
            NO_DEFAULT_PATH)
  find_library(DuckDB_LIBRARY duckdb PATHS "${_tarn_npm}/@duckdb/node-bindings-linux-x64"
               NO_DEFAULT_PATH)
  find_path(DuckDB_INCLUDE_DIR duckdb.hpp)
  find_library(DuckDB_LIBRARY duckdb)
endif()

find_package_handle_standard_args(DuckDB REQUIRED_VARS DuckDB_LIBRARY DuckDB_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "run scripts/bootstrap.sh, or pass -DTARN_DUCKDB_ROOT=<dir>")

if(DuckDB_FOUND AND NOT TARGET tarn::duckdb)
  add_library(tarn::duckdb SHARED IMPORTED)
  set_target_properties(tarn::duckdb PROPERTIES
    IMPORTED_LOCATION "${DuckDB_LIBRARY}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${DuckDB_INCLUDE_DIR}"
    INTERFACE_INCLUDE_DIRECTORIES "${DuckDB_INCLUDE_DIR}")
  get_filename_component(_tarn_duckdb_dir "${DuckDB_LIBRARY}" DIRECTORY)
  # The build tree's binaries find libduckdb.so through this RPATH (CMake also adds it for the build
  # tree on its own; this keeps it in installed binaries). Not in a wheel (SKBUILD), which carries
  # libduckdb.so beside the extension.
  if(NOT SKBUILD)
    set_property(TARGET tarn::duckdb APPEND PROPERTY INTERFACE_LINK_OPTIONS
      "LINKER:-rpath,${_tarn_duckdb_dir}")
  endif()
endif()
mark_as_advanced(DuckDB_INCLUDE_DIR DuckDB_LIBRARY)
