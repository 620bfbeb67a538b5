#include <cstdio>
int main() { std::puts("tsfleet: under construction"); return 6; }
