package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.dispatch.DispatchCounts;
import org.junit.jupiter.api.Test;

class ProgressReporterTest {
  @Test
  void theProgressLineShowsOutcomesRateAndWhatIsLeft() {
    assertThat(ProgressReporter.line(new DispatchCounts(1200, 3, 1), 240.04, 8800))
        .isEqualTo("delivered 1200, deferred 3, failed 1, 240.0/s, 8800 left in queue");
  }
}
