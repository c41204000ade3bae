// ordersync command line entry point (placeholder until the config/CLI work lands).
#include <cstdio>
int main() { std::puts("ordersync"); return 0; }
