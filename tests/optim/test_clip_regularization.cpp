#include "optim_problem.hpp"
