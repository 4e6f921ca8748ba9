import Foundation
import Testing

@testable import Daemon

@Suite("Daemon health (/healthz)")
struct DaemonHealthTests {
    @Test("unhealthy while the last cycle that polled could not record its polls, through wake-ups that poll nothing")
    func storeProblemsShow() async {
        let state = ExportwatchDaemon.State(Configuration())
        #expect(await state.unhealthy() == nil)
        await state.cycleChecked(problem: "996 of the last cycle's 1005 polls were not recorded: the disk is full")
        await state.progressed()
        #expect(await state.unhealthy()?.hasPrefix("996 of the last cycle's 1005 polls were not recorded") == true)
        await state.progressed()
        #expect(await state.unhealthy() != nil, "a wake-up that polled nothing says nothing of the store")
        await state.cycleChecked(problem: nil)
        #expect(await state.unhealthy() == nil)
    }

    @Test("unhealthy when no poll and no cycle has finished in ten minutes")
    func staleCycle() async {
        let state = ExportwatchDaemon.State(Configuration())
        await state.progressed()
        let finished = await state.lastProgress
        #expect(await state.unhealthy(at: finished.addingTimeInterval(599)) == nil)
        #expect(
            await state.unhealthy(at: finished.addingTimeInterval(600))
                == "the poller has made no progress in 10 minutes")
    }
}
