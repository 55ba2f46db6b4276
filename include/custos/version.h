#ifndef CUSTOS_VERSION_H
#define CUSTOS_VERSION_H
#define CUSTOS_VERSION "0.1.0-dev"
#endif
