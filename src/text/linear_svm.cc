#include "text/linear_svm.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <random>
#include <utility>

namespace sagaflow::text {

void SparseRows::AddRow(std::span<const uint32_t> cols_of_row, std::span<const double> values_of_row) {
  assert(cols_of_row.size() == values_of_row.size());
  col.insert(col.end(), cols_of_row.begin(), cols_of_row.end());
  value.insert(value.end(), values_of_row.begin(), values_of_row.end());
  row_begin.push_back(col.size());
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// w.x_i + bias_weight * b, summed in column order with the bias last, as
// liblinear sums a row whose last feature is the bias.
double RowDot(const SparseRows& x, size_t i, const std::vector<double>& w, double bias_weight, double b) {
  double sum = 0;
  for (uint64_t k = x.row_begin[i]; k < x.row_begin[i + 1]; ++k) sum += w[x.col[k]] * x.value[k];
  if (b > 0) sum += bias_weight * b;
  return sum;
}

}  // namespace

BinarySvm SolveL2LossSvm(const SparseRows& x, std::span<const int8_t> y, const SvmOptions& options) {
  const size_t l = x.rows();
  assert(y.size() == l);
  const double b = options.intercept_scaling;
  // liblinear's diag and upper bound for the L2 loss: D_ii = 1/(2C), no bound.
  const double diag = 0.5 / options.c;

  BinarySvm out;
  out.weights.assign(x.cols, 0.0);
  out.alpha.assign(l, 0.0);
  std::vector<double>& w = out.weights;
  std::vector<double>& alpha = out.alpha;
  double& wb = out.bias_weight;

  std::vector<double> qd(l);
  std::vector<uint32_t> index(l);
  for (size_t i = 0; i < l; ++i) {
    double q = diag;
    for (uint64_t k = x.row_begin[i]; k < x.row_begin[i + 1]; ++k) q += x.value[k] * x.value[k];
    if (b > 0) q += b * b;
    qd[i] = q;
    index[i] = static_cast<uint32_t>(i);
  }

  std::mt19937 rng(options.seed);
  size_t active = l;
  // The upper bound is infinite for the L2 loss, so only liblinear's
  // PGmax_old shrinking threshold applies.
  double pg_max_old = kInf;
  int iter = 0;
  while (iter < options.max_iter) {
    double pg_max_new = -kInf, pg_min_new = kInf;
    for (size_t i = 0; i < active; ++i) {
      size_t j = i + rng() % (active - i);
      std::swap(index[i], index[j]);
    }
    for (size_t s = 0; s < active; ++s) {
      const size_t i = index[s];
      const double yi = y[i];
      double g = RowDot(x, i, w, wb, b) * yi - 1 + alpha[i] * diag;
      double pg = 0;
      if (alpha[i] == 0) {
        if (g > pg_max_old) {
          // Shrink: at its bound and unlikely to move; revisited at the end.
          --active;
          std::swap(index[s], index[active]);
          --s;
          continue;
        }
        if (g < 0) pg = g;
      } else {
        pg = g;
      }
      pg_max_new = std::max(pg_max_new, pg);
      pg_min_new = std::min(pg_min_new, pg);
      if (std::fabs(pg) > 1.0e-12) {
        const double old = alpha[i];
        alpha[i] = std::max(alpha[i] - g / qd[i], 0.0);
        const double d = (alpha[i] - old) * yi;
        for (uint64_t k = x.row_begin[i]; k < x.row_begin[i + 1]; ++k) w[x.col[k]] += d * x.value[k];
        if (b > 0) wb += d * b;
      }
    }
    ++iter;
    if (pg_max_new - pg_min_new <= options.tol) {
      if (active == l) {
        out.converged = true;
        break;
      }
      // Converged on the shrunk set: verify on all rows before stopping.
      active = l;
      pg_max_old = kInf;
      continue;
    }
    pg_max_old = pg_max_new;
    if (pg_max_old <= 0) pg_max_old = kInf;
  }
  // An empty problem is trivially optimal.
  if (l == 0) out.converged = true;
  out.iterations = iter;
  out.intercept = b > 0 ? wb * b : 0.0;
  return out;
}

SvmCheck CheckL2LossSvm(const SparseRows& x, std::span<const int8_t> y, const SvmOptions& options,
                        const BinarySvm& svm) {
  const size_t l = x.rows();
  const double b = options.intercept_scaling;
  const double diag = 0.5 / options.c;
  // w from the dual variables, independently of the solver's running w.
  std::vector<double> w(x.cols, 0.0);
  double wb = 0;
  for (size_t i = 0; i < l; ++i) {
    const double ay = svm.alpha[i] * y[i];
    for (uint64_t k = x.row_begin[i]; k < x.row_begin[i + 1]; ++k) w[x.col[k]] += ay * x.value[k];
    if (b > 0) wb += ay * b;
  }
  double w2 = wb * wb;
  for (double v : w) w2 += v * v;

  SvmCheck check;
  double alpha_sum = 0, alpha2 = 0, loss = 0;
  for (size_t i = 0; i < l; ++i) {
    const double a = svm.alpha[i];
    alpha_sum += a;
    alpha2 += a * a;
    const double margin = y[i] * RowDot(x, i, w, wb, b);
    loss += std::pow(std::max(0.0, 1 - margin), 2);
    const double g = margin - 1 + a * diag;
    const double pg = a > 0 ? g : std::min(g, 0.0);
    check.max_kkt_violation = std::max(check.max_kkt_violation, std::fabs(pg));
  }
  check.dual_objective = 0.5 * w2 + 0.5 * diag * alpha2 - alpha_sum;
  check.primal_objective = 0.5 * w2 + options.c * loss;
  return check;
}

}  // namespace sagaflow::text
