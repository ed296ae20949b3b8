#include <iostream>
#include "plumetrace/core/version.hpp"
int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--version") { std::cout << "plumetrace " << plumetrace::kVersion << "\n"; return 0; }
  std::cerr << "plumetrace: usage: plumetrace COMMAND ...\n";
  return 2;
}
